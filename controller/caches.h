// The operator's shared view of the cluster, kept by every replica (controller-runtime's
// Manager cache): informers on IarnetWorkloads, their Pods and the IarnetProvider, the
// ledger book fed by the workload cache, and the IarnetProvider's bootstrap. The gRPC
// front end and the metrics read from here; the leader's WorkloadController reconciles
// from here. Nothing in it writes but Start's bootstrap of a missing IarnetProvider.
//
// Threads and locks:
// - Start and Stop run on the caller's thread (main).
// - Each informer runs its handlers, its on_store hook and after_relist on its watch
//   thread (the client's I/O thread), and also on the thread of whoever calls Assume on
//   it (the controller's workers, the front end's Deploy): handlers must not block.
// - on_store feeds the ledger book with the workload cache's lock held, so the book never
//   lags the cache; the book's lock is a leaf (ledger_book.h).
// - Readers (workloads(), CurrentLedger(), ...) may call from any thread.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "api/iarnet_types.h"
#include "controller/ledger.h"
#include "controller/ledger_book.h"
#include "controller/node_view.h"
#include "kube/client.h"
#include "kube/informer.h"

namespace iarnet {

struct CachesOptions {
  std::string namespace_ = "default";
  std::string provider_name = "iarnet-provider";
  // The IarnetProvider's spec when it has to be created (config or Helm values).
  ProviderSpec provider_spec;
  // Called after the workload cache or a workload's Pod changed (on an informer's
  // thread: must not block). The gRPC front end wakes its Deploy and Undeploy waiters.
  std::function<void()> on_change;
  // Called after a relist of the big caches (workloads, Pods) has been merged: where the
  // application hands the pages freed by the list back to the system (malloc_trim).
  std::function<void()> release_memory;
  std::chrono::milliseconds sync_timeout{60000};
  // capacity.source nodes: watch the cluster's Nodes and Pods (node_view.h); the
  // capacity is then the lesser of the spec's cap and what the eligible nodes can hold.
  // nullopt (capacity.source config): the spec's capacity alone, as configured.
  std::optional<NodeViewOptions> node_view;
};

class Caches {
 public:
  // Informers are made here, so others may add handlers before Start.
  Caches(kube::Client& client, CachesOptions options);
  ~Caches();
  Caches(const Caches&) = delete;
  Caches& operator=(const Caches&) = delete;

  // Ensures the IarnetProvider exists, starts the informers and waits until each has
  // synced (its handlers have seen the first list). Throws kube::Error when the cluster
  // cannot be reached or a cache does not sync in time.
  void Start();
  // Start in steps, for a caller that retries while the API server cannot be reached
  // (kubernetes.allow_connection_failure): EnsureProvider throws kube::Error and may be
  // called again; StartInformers once (the informers retry on their own); WaitForSync
  // says whether every cache has synced within `timeout`.
  void EnsureProvider();
  void StartInformers();
  bool WaitForSync(std::chrono::milliseconds timeout);
  void Stop();

  kube::Informer& workloads() { return *workloads_; }
  kube::Informer& pods() { return *pods_; }
  kube::Informer& providers() { return *providers_; }
  LedgerBook& ledger_book() { return book_; }
  // The node view, or null with capacity.source config.
  NodeView* node_view() { return node_view_.get(); }
  const CachesOptions& options() const { return options_; }

  // The IarnetProvider's spec from the cache (the configured one until it is seen).
  ProviderSpec CurrentProviderSpec();
  // The control plane's record in the IarnetProvider's status, from the cache.
  ControlPlane CurrentControlPlane();
  // The capacity the ledger counts against: the spec's, each component capped by what
  // the eligible nodes can hold when the node view is on (an uncapped component is
  // then the nodes' alone).
  Resources Capacity(const ProviderSpec& spec);
  // The published ledger: cached records and our written charges, no reservations.
  Ledger CurrentLedger();

 private:
  void Index(const kube::ObjectPtr& workload, bool deleted);  // feeds book_

  kube::Client& client_;
  CachesOptions options_;
  LedgerBook book_;
  std::unique_ptr<kube::Informer> workloads_, pods_, providers_;
  std::unique_ptr<NodeView> node_view_;
};

}  // namespace iarnet
