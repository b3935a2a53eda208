// The workload controller (the leader's reconciler): the shared caches (caches.h) feed a
// work queue; workers reconcile workloads with Plan() and carry the plan out through the
// API server. The queue never hands one key to two workers. Admission is serial: a
// reconcile that may admit holds the admission lock from reading the ledger to
// reserving its charge in the ledger book. Every status write is conditional on the
// resourceVersion that was read.
//
// Threads and locks:
// - The handlers this controller adds to the caches' informers run on the informers'
//   threads (and on Assume callers' threads): they only add keys to the queue.
// - `workers` worker threads run Work -> Reconcile -> Carry; the ledger writer thread
//   runs WriteLedgerLoop, and re-queues every workload when the control-plane record
//   changed (the providers informer's handler only flags it) or, looked at every 2 s,
//   the connected id did (silence changes no object; options_.connected_id is called
//   on both threads). Both start in StartReconciling
//   (the leader only) and are joined by Stop.
// - The node view's handlers (caches.h) only add keys and wake the ledger writer, which
//   re-queues the Rejected workloads when room may have grown (at most once a burst).
// - Lock order: admission_mu_ before the ledger book's lock, before the node view's
//   (both leaves otherwise: the book calls into the view only in ChargesExcept). status_write_mu_
//   is held across one ledger write (a call to the API server) and taken before mu_.
//   ledger_mu_ guards only the writer's wake-up flags. No lock is held while calling
//   into an informer, except the book's, which the informer takes inside its own.
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

#include "api/iarnet_types.h"
#include "controller/caches.h"
#include "controller/controller_options.h"
#include "controller/ledger.h"
#include "kube/client.h"
#include "kube/event_recorder.h"
#include "kube/informer.h"
#include "kube/workqueue.h"

namespace iarnet {

class WorkloadController {
 public:
  // Adds its handlers to `caches`' informers: construct it before caches.Start().
  WorkloadController(kube::Client& client, Caches& caches, ControllerOptions options);
  ~WorkloadController();

  // Starts the workers and the ledger writer (the ledger book is complete once the caches
  // have synced, before any worker runs). Only the leader calls this (once), after
  // caches.Start().
  void StartReconciling();
  void Stop();
  bool reconciling() const { return running_; }

  const ControllerOptions& options() const { return options_; }
  kube::WorkQueue& queue() { return queue_; }

 private:
  void Work();
  // Returns when to look again although nothing changes (a pending deadline).
  std::optional<std::chrono::milliseconds> Reconcile(const std::string& key);
  // Carries the plan out; returns the written object when another step follows at once.
  std::optional<kube::json> Carry(const std::string& key, const kube::json& raw, const Workload& w,
                                  const struct WorkloadPlan& plan);
  // Throws unless options_.may_write allows a write now (`what` says which, for the log).
  void RequireLeading(const char* what) const;
  void LedgerChanged();  // wakes the ledger writer
  void WriteLedgerLoop();
  void WriteProviderStatus();

  void EnqueueOwner(const kube::ObjectPtr& pod);
  void EnqueueRejected();
  // From the node view's handlers: the numbers changed; with `room_may_have_grown`, the
  // ledger writer also re-queues the waiting (Rejected) workloads.
  void CapacityChanged(bool room_may_have_grown);
  // The node view's word on `node`; a deletion, or NotReady past the grace, confirmed
  // by a live read (throws kube::Error when that read fails).
  NodeHealth NodeHealthOf(const std::string& node);
  void ReportOutcome(const WorkloadStatus& before, const WorkloadStatus& after);

  kube::Client& client_;
  Caches& caches_;
  const std::string& ns_;  // caches_.options().namespace_
  ControllerOptions options_;
  kube::WorkQueue queue_;
  std::unique_ptr<kube::EventRecorder> events_;
  std::vector<std::thread> workers_;
  std::mutex admission_mu_;     // held from reading the ledger to reserving a new charge
  std::mutex status_write_mu_;  // one ledger write at a time, so a stale one never lands last
  std::thread ledger_writer_;
  std::mutex ledger_mu_;
  std::condition_variable ledger_cv_;
  bool ledger_dirty_ = false, ledger_stopping_ = false;  // guarded by ledger_mu_
  bool sessions_changed_ = false;  // guarded by ledger_mu_: the control-plane record changed
  bool rejected_wanted_ = false;   // guarded by ledger_mu_: room may have grown (node view)
  std::atomic<bool> running_{false};

  std::mutex mu_;
  Ledger last_written_ledger_;                       // guarded by mu_
  std::optional<ClusterView> last_written_cluster_;  // guarded by mu_
  bool provider_status_written_ = false;             // guarded by mu_
  std::set<std::string> foreign_pods_logged_;        // guarded by mu_: uids of labelled Pods no
                                                     // workload owns
};

}  // namespace iarnet
