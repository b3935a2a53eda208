// The workload controller: informers on IarnetWorkloads, their Pods and the
// IarnetProvider feed a work queue; workers reconcile workloads with Plan() and carry
// the plan out through the API server. The queue never hands one key to two workers.
// Admission is serial: a reconcile that may admit holds the admission lock from reading
// the ledger to recording its charge. Every status write is conditional on the
// resourceVersion that was read.
//
// The ledger is recomputed from the admission records in the cache. A write of our own
// may not be in the cache yet when the next workload is admitted, so charges we wrote
// are overlaid on the cache until it catches up: no capacity is handed out twice.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "charge_index.h"
#include "iarnet_types.h"
#include "kube/client.h"
#include "kube/event_recorder.h"
#include "kube/informer.h"
#include "kube/workqueue.h"
#include "ledger.h"

namespace iarnet {

struct ControllerOptions {
  std::string namespace_ = "default";
  std::string provider_name = "iarnet-provider";
  // The IarnetProvider's spec when it has to be created (config or Helm values).
  ProviderSpec provider_spec;
  std::string field_manager = "iarnet-k8s-provider";
  int workers = 16;  // reconciles of different workloads in parallel
  // A Pod that cannot pull its image is given up this long after admission (0: never).
  std::chrono::milliseconds image_pull_timeout{std::chrono::seconds(60)};
  // Called after the workload cache or a workload's Pod changed (on the I/O thread: must
  // not block). The gRPC front end wakes its Deploy and Undeploy waiters with it.
  std::function<void()> on_workload_event;
  // Called after each reconcile with its duration and "success" or "error" (metrics).
  std::function<void(double seconds, const std::string& result)> on_reconcile;
};

class WorkloadController {
 public:
  WorkloadController(kube::Client& client, ControllerOptions options);
  ~WorkloadController();

  // Ensures the IarnetProvider exists, starts the informers and waits for them to sync.
  // Every replica does this: the gRPC front end reads the caches. Throws kube::Error
  // when the cluster cannot be reached.
  void StartCaches();
  // Starts the workers and the ledger writer (the ledger is the synced cache's charge
  // index, complete before any worker runs). Only the leader calls this (once).
  void StartReconciling();
  // Both, for a single replica.
  void Start() {
    StartCaches();
    StartReconciling();
  }
  void Stop();
  bool reconciling() const { return running_; }

  // The shared caches (valid after StartCaches).
  kube::Informer& workloads() { return *workloads_; }
  kube::Informer& pods() { return *pods_; }
  kube::Informer& providers() { return *providers_; }
  const ControllerOptions& options() const { return options_; }
  kube::WorkQueue& queue() { return queue_; }

  // The ledger as the controller sees it (cache plus its own unobserved writes).
  Ledger CurrentLedger();
  // The IarnetProvider's spec from the cache (the configured one until it is seen).
  ProviderSpec CurrentProviderSpec();

 private:
  void Work();
  // Returns when to look again although nothing changes (a pending deadline).
  std::optional<std::chrono::milliseconds> Reconcile(const std::string& key);
  // Carries the plan out; returns the written object when another step follows at once.
  std::optional<kube::json> Carry(const std::string& key, const kube::json& raw, const Workload& w,
                                  const struct WorkloadPlan& plan);
  void LedgerChanged();  // wakes the ledger writer
  void WriteLedgerLoop();
  // `count_reserved`: include charges whose status write is still in flight (for
  // admission decisions; the published ledger counts only written ones).
  Ledger LedgerLocked(const ProviderSpec& spec, bool count_reserved);
  void DropReservation(const std::string& key);
  void WriteProviderStatus();

  void IndexWorkload(const kube::ObjectPtr& workload, bool deleted);  // feeds charges_
  void EnqueueOwner(const kube::ObjectPtr& pod);
  void EnqueueRejected();

  kube::Client& client_;
  ControllerOptions options_;
  kube::WorkQueue queue_;
  std::unique_ptr<kube::Informer> workloads_, pods_, providers_;
  std::unique_ptr<kube::EventRecorder> events_;
  std::vector<std::thread> workers_;
  std::mutex admission_mu_;     // held from reading the ledger to recording a new charge
  std::mutex status_write_mu_;  // one ledger write at a time, so a stale one never lands last
  std::thread ledger_writer_;
  std::mutex ledger_mu_;
  std::condition_variable ledger_cv_;
  bool ledger_dirty_ = false, ledger_stopping_ = false;
  std::atomic<bool> running_{false};
  bool caches_started_ = false;

  std::mutex mu_;
  // Charges written by us and not yet seen in the cache: key -> (resourceVersion, charge).
  struct Written {
    uint64_t resource_version;
    std::optional<Resources> charge;
  };
  std::map<std::string, Written> overlay_;
  // Every cached workload's admission record and phase, summed as the cache changes.
  ChargeIndex charges_;
  // The resource_version of a charge reserved by an admission whose write is in flight.
  static constexpr uint64_t kReserved = UINT64_MAX;
  Ledger last_written_ledger_;
  std::set<std::string> foreign_pods_logged_;  // uids of labelled Pods no workload owns
  bool provider_status_written_ = false;
};

}  // namespace iarnet
