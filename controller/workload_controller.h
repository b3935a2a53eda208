// The workload controller: informers on IarnetWorkloads, their Pods and the
// IarnetProvider feed a work queue; one worker reconciles one workload at a time with
// Plan() and carries the plan out through the API server. One worker makes admission
// serial; every status write is conditional on the resourceVersion that was read.
//
// The ledger is recomputed from the admission records in the cache. A write of our own
// may not be in the cache yet when the next workload is admitted, so charges we wrote
// are overlaid on the cache until it catches up: no capacity is handed out twice.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

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
};

class WorkloadController {
 public:
  WorkloadController(kube::Client& client, ControllerOptions options);
  ~WorkloadController();

  // Ensures the IarnetProvider exists, starts the informers, waits for them to sync and
  // starts the worker. Throws kube::Error when the cluster cannot be reached.
  void Start();
  void Stop();

  // The ledger as the controller sees it (cache plus its own unobserved writes).
  Ledger CurrentLedger();

 private:
  void Work();
  void Reconcile(const std::string& key);
  void Carry(const std::string& key, const kube::json& raw, const Workload& w,
             const struct WorkloadPlan& plan);
  Ledger LedgerLocked(const ProviderSpec& spec);
  void WriteProviderStatus();
  ProviderSpec CurrentProviderSpec();
  void EnqueueOwner(const kube::ObjectPtr& pod);
  void EnqueueRejected();

  kube::Client& client_;
  ControllerOptions options_;
  kube::WorkQueue queue_;
  std::unique_ptr<kube::Informer> workloads_, pods_, providers_;
  std::unique_ptr<kube::EventRecorder> events_;
  std::thread worker_;
  std::atomic<bool> running_{false};

  std::mutex mu_;
  // Charges written by us and not yet seen in the cache: key -> (resourceVersion, charge).
  struct Written {
    uint64_t resource_version;
    std::optional<Resources> charge;
  };
  std::map<std::string, Written> overlay_;
  Ledger last_written_ledger_;
  std::set<std::string> foreign_pods_logged_;  // uids of labelled Pods no workload owns
  bool provider_status_written_ = false;
};

}  // namespace iarnet
