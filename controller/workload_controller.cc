#include "controller/workload_controller.h"

#include <algorithm>

#include "api/vocabulary.h"
#include "controller/iarnet_resources.h"
#include "controller/workload_plan.h"
#include "kube/error.h"
#include "kube/log.h"
#include "kube/text.h"
#include "kube/time_format.h"

namespace iarnet {
namespace {

// A queue key that is not a workload: "write the ledger" (the provider's spec changed).
// Workload keys are namespace/name, so it cannot collide with one.
const char* const kLedgerKey = "#ledger";

std::string Now() { return kube::FormatTime(std::chrono::system_clock::now()); }

}  // namespace

WorkloadController::WorkloadController(kube::Client& client, Caches& caches,
                                       ControllerOptions options)
    : client_(client),
      caches_(caches),
      ns_(caches.options().namespace_),
      options_(std::move(options)),
      queue_("iarnetworkload"),
      events_(std::make_unique<kube::EventRecorder>(client_, options_.field_manager)) {
  auto enqueue = [this](const kube::ObjectPtr& o) { queue_.Add(kube::ObjectKey(*o)); };
  caches_.workloads().AddHandlers(
      {enqueue, [enqueue](const kube::ObjectPtr&, const kube::ObjectPtr& o) { enqueue(o); },
       enqueue});
  auto owner = [this](const kube::ObjectPtr& p) { EnqueueOwner(p); };
  caches_.pods().AddHandlers(
      {owner, [owner](const kube::ObjectPtr&, const kube::ObjectPtr& p) { owner(p); }, owner});
  // A new spec (capacity, languages) changes the ledger's total, and may let rejected
  // workloads in; our own ledger writes change only the status and re-queue nothing.
  // A changed control-plane record (Connect, Disconnect, takeover) may end or resume
  // sessions: the ledger writer's thread re-queues every workload (not this I/O thread).
  caches_.providers().AddHandlers(
      {nullptr,
       [this](const kube::ObjectPtr& before, const kube::ObjectPtr& after) {
         auto part = [](const kube::ObjectPtr& o, const char* key, const char* sub) {
           kube::json j = o ? (*o).value(key, kube::json::object()) : kube::json::object();
           return sub ? j.value(sub, kube::json::object()) : j;
         };
         if (part(before, "spec", nullptr) != part(after, "spec", nullptr)) {
           queue_.Add(kLedgerKey);
           EnqueueRejected();
         }
         if (part(before, "status", "controlPlane") != part(after, "status", "controlPlane")) {
           {
             std::lock_guard<std::mutex> lock(ledger_mu_);
             sessions_changed_ = true;
           }
           ledger_cv_.notify_one();
         }
       },
       nullptr});
  if (NodeView* view = caches_.node_view()) {
    // What the nodes can hold changed: the ledger's total (the writer publishes it), and
    // when room may have grown, waiting workloads look again (the writer re-queues them,
    // at most once per interval: foreign Pods come and go all the time). A node's health
    // changed or it left: our workloads on it look again (NodeLost). Updates that change
    // nothing the view reads (heartbeats, a Pod's status) are skipped.
    auto node = [this, view](const kube::ObjectPtr& before, const kube::ObjectPtr& after) {
      NodeFacts b = before ? NodeFactsFromJson(*before) : NodeFacts{};
      NodeFacts a = after ? NodeFactsFromJson(*after) : NodeFacts{};
      if (before && after && a == b) return;
      if (!before || !after || a.ready != b.ready) {
        for (const auto& key : view->OursOn((after ? a : b).name)) queue_.Add(key);
      }
      CapacityChanged(after != nullptr);
    };
    view->nodes().AddHandlers({[node](const kube::ObjectPtr& n) { node(nullptr, n); }, node,
                               [node](const kube::ObjectPtr& n) { node(n, nullptr); }});
    auto pod = [this](const kube::ObjectPtr& before, const kube::ObjectPtr& after) {
      PodFacts b = before ? PodFactsFromJson(*before) : PodFacts{};
      PodFacts a = after ? PodFactsFromJson(*after) : PodFacts{};
      if (before && after && a == b) return;
      // Our own Pods move room between our workloads only; their charges come and go
      // with the ledger, which re-queues waiting workloads itself when one is released.
      bool ours = (before && b.ours) || (after && a.ours);
      // Room grows only where a foreign Pod leaves a node or asks for less.
      bool freed = !ours && before && !b.node.empty() &&
                   (!after || a.node != b.node || !Fits(b.requests, a.requests));
      CapacityChanged(freed);
    };
    view->pods().AddHandlers({[pod](const kube::ObjectPtr& p) { pod(nullptr, p); }, pod,
                              [pod](const kube::ObjectPtr& p) { pod(p, nullptr); }});
  }
}

WorkloadController::~WorkloadController() { Stop(); }

void WorkloadController::CapacityChanged(bool room_may_have_grown) {
  if (!running_) return;
  {
    std::lock_guard<std::mutex> lock(ledger_mu_);
    ledger_dirty_ = true;
    if (room_may_have_grown) rejected_wanted_ = true;
  }
  ledger_cv_.notify_one();
}

void WorkloadController::StartReconciling() {
  // The ledger is already whole: the ledger book was filled with the synced cache,
  // before any worker can admit. The queue holds every workload (the initial adds).
  // Publishing it in the provider's status is the ledger writer's first job, so that
  // serving does not wait for that write.
  running_ = true;
  ledger_writer_ = std::thread([this] { WriteLedgerLoop(); });
  LedgerChanged();
  for (int i = 0; i < std::max(1, options_.workers); ++i) workers_.emplace_back([this] { Work(); });
}

void WorkloadController::LedgerChanged() {
  {
    std::lock_guard<std::mutex> lock(ledger_mu_);
    ledger_dirty_ = true;
  }
  ledger_cv_.notify_one();
}

void WorkloadController::WriteLedgerLoop() {
  // One write per burst of changes, at most one per interval: a storm of admissions
  // costs a few ledger writes, not one each (the ledger in the provider's status is a
  // summary for people and dashboards; admission reads the workloads' own records).
  // A change after a quiet spell is written at once. Stop writes what is still pending.
  const auto interval = std::chrono::milliseconds(500);
  std::unique_lock<std::mutex> lock(ledger_mu_);
  bool looked = false;
  std::optional<std::string> connected;  // as last looked at (orphans)
  while (true) {
    // Every 2 s also: whether the connected control plane changed (a session can end by
    // silence alone, which no object change announces).
    ledger_cv_.wait_for(lock, std::chrono::seconds(2),
                        [this] { return ledger_dirty_ || ledger_stopping_ || sessions_changed_; });
    if (!ledger_dirty_ && ledger_stopping_) return;
    if (options_.connected_id) {
      bool record_changed = sessions_changed_;
      sessions_changed_ = false;
      lock.unlock();
      std::optional<std::string> now_connected = options_.connected_id();
      if (record_changed || (looked && connected != now_connected)) {
        // Every workload's orphan rule looks again.
        for (const auto& w : caches_.workloads().List()) {
          const auto& meta = (*w)["metadata"];
          queue_.Add(meta.value("namespace", "") + "/" + meta.value("name", ""));
        }
      }
      connected = std::move(now_connected);
      looked = true;
      lock.lock();
    }
    if (!ledger_dirty_) continue;
    ledger_dirty_ = false;
    bool rejected = rejected_wanted_;
    rejected_wanted_ = false;
    lock.unlock();
    if (rejected) EnqueueRejected();
    WriteProviderStatus();
    lock.lock();
    if (!ledger_stopping_) ledger_cv_.wait_for(lock, interval, [this] { return ledger_stopping_; });
  }
}

void WorkloadController::Stop() {
  running_ = false;
  queue_.ShutDown();
  for (auto& w : workers_) {
    if (w.joinable()) w.join();
  }
  workers_.clear();
  {
    std::lock_guard<std::mutex> lock(ledger_mu_);
    ledger_stopping_ = true;
  }
  ledger_cv_.notify_one();
  if (ledger_writer_.joinable()) ledger_writer_.join();
  if (events_) events_->Flush();
}

void WorkloadController::EnqueueOwner(const kube::ObjectPtr& pod) {
  const auto& meta = (*pod)["metadata"];
  if (auto owner = ControlledByWorkload(*pod)) {
    queue_.Add(meta.value("namespace", "") + "/" + owner->name);
    return;
  }
  // Carries the iarnet labels but no workload owns it: not ours to count or touch.
  std::lock_guard<std::mutex> lock(mu_);
  if (foreign_pods_logged_.insert(meta.value("uid", "")).second) {
    KLOG(kInfo, "controller") << "Pod " << meta.value("namespace", "") << "/"
                              << meta.value("name", "")
                              << " has iarnet labels but no owning IarnetWorkload; ignoring it";
  }
}

void WorkloadController::EnqueueRejected() {
  for (const auto& key : caches_.ledger_book().Rejected()) queue_.Add(key);
}

void WorkloadController::ReportOutcome(const WorkloadStatus& before, const WorkloadStatus& after) {
  if (!options_.on_outcome) return;
  bool changed = before.phase != after.phase || before.reason != after.reason;
  if (!changed) return;
  if (after.phase == Phase::kRejected) options_.on_outcome("rejected", after.reason);
  if (after.phase == Phase::kFailed &&
      (after.reason == "Unschedulable" || after.reason == "NodeLost"))
    options_.on_outcome("ended", after.reason);
}

void WorkloadController::RequireLeading(const char* what) const {
  if (options_.may_write && !options_.may_write())
    throw std::runtime_error(std::string("not writing ") + what +
                             ": this replica's term as leader has ended");
}

void WorkloadController::WriteProviderStatus() {
  std::lock_guard<std::mutex> writing(status_write_mu_);
  Ledger l = caches_.CurrentLedger();
  std::optional<ClusterView> cluster;
  if (NodeView* view = caches_.node_view()) cluster = view->View();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (provider_status_written_ && l == last_written_ledger_ && cluster == last_written_cluster_)
      return;
  }
  const std::string& provider_name = caches_.options().provider_name;
  auto cached = caches_.providers().Get(ns_, provider_name);
  ProviderStatus status = cached ? ProviderFromJson(*cached).status : ProviderStatus{};
  status.total = l.total;
  status.used = l.used;
  status.available = l.available;
  status.admitted_count = l.admitted;
  status.cluster = cluster;
  // Only the ledger's fields: the connected control plane in the same status is written
  // by the gRPC front end, and a merge patch leaves what it does not name untouched.
  kube::json full = ToJson(status);
  kube::json patch = {{"status", {{"ledger", full["ledger"]}, {"display", full["display"]}}}};
  if (full.contains("cluster")) patch["status"]["cluster"] = full["cluster"];
  kube::PatchOptions o;
  o.subresource = "status";
  try {
    RequireLeading("the provider's ledger");
    client_.Patch(kProviderResource, ns_, provider_name, kube::PatchType::kMerge, patch, o);
    std::lock_guard<std::mutex> lock(mu_);
    last_written_ledger_ = l;
    last_written_cluster_ = cluster;
    provider_status_written_ = true;
  } catch (const std::exception& e) {
    KLOG(kWarning, "controller") << "writing the provider's ledger: " << e.what();
  }
}

void WorkloadController::Work() {
  while (auto key = queue_.Get()) {
    auto started = std::chrono::steady_clock::now();
    std::string result = "success";
    try {
      std::optional<std::chrono::milliseconds> requeue;
      if (*key != kLedgerKey) requeue = Reconcile(*key);
      queue_.Forget(*key);
      if (requeue) queue_.AddAfter(*key, *requeue + std::chrono::milliseconds(50));
    } catch (const kube::Error& e) {
      // A Conflict only means our cache was behind: expected, and retried at once.
      if (e.IsConflict()) {
        KLOG(kDebug, "controller") << *key << ": " << e.what() << "; retrying";
      } else {
        KLOG(kWarning, "controller") << *key << ": " << e.what() << "; retrying";
      }
      queue_.AddRateLimited(*key);
      result = "error";
    } catch (const std::exception& e) {
      KLOG(kError, "controller") << *key << ": " << e.what() << "; retrying";
      queue_.AddRateLimited(*key);
      result = "error";
    }
    queue_.Done(*key);
    if (options_.on_reconcile && *key != kLedgerKey) {
      std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
      options_.on_reconcile(took.count(), result);
    }
    LedgerChanged();  // written by the ledger writer, at most once per interval
  }
}

std::optional<std::chrono::milliseconds> WorkloadController::Reconcile(const std::string& key) {
  auto cached = caches_.workloads().Get(key);
  if (!cached) {
    caches_.ledger_book().Discard(key);
    return std::nullopt;
  }
  kube::json raw = *cached;
  Workload w = WorkloadFromJson(raw);
  PodObservation pod;
  if (auto p = caches_.pods().Get(w.metadata.namespace_, w.metadata.name)) {
    pod = ObservePod(*p, w.metadata.uid);
  } else if (!w.status.pod_name.empty() || w.metadata.deleting) {
    // The cache says no Pod; confirm before concluding it is gone.
    try {
      pod = ObservePod(client_.Get(kube::resources::kPods, w.metadata.namespace_, w.metadata.name),
                       w.metadata.uid);
    } catch (const kube::Error& e) {
      if (!e.IsNotFound()) throw;
    }
  }
  // A new workload goes finalizer -> admission -> Pod. Each step is planned from the
  // object our previous write returned, so the steps follow each other at once instead
  // of waiting for the watch to bring each write back (at most three steps).
  // Who is connected, once per reconcile (the orphan rule): a reconcile is one moment.
  std::optional<std::string> connected;
  if (options_.connected_id) connected = options_.connected_id();
  for (int step = 0; step < 3; ++step) {
    // A workload that may be admitted now holds the admission lock from reading the
    // ledger to recording its charge. Others only release (which can only make a
    // concurrent admission more cautious) or add the finalizer, and need no lock.
    bool may_admit = !w.status.admission && !w.metadata.deleting &&
                     std::find(w.metadata.finalizers.begin(), w.metadata.finalizers.end(),
                               kReleaseFinalizer) != w.metadata.finalizers.end();
    std::unique_lock<std::mutex> admission(admission_mu_, std::defer_lock);
    if (may_admit) admission.lock();
    ProviderSpec provider = caches_.CurrentProviderSpec();
    Ledger ledger = caches_.ledger_book().Compute(caches_.Capacity(provider), true);
    NodeFitInput fit;
    NodeView* view = caches_.node_view();
    if (view && may_admit) {
      fit.rooms = view->Rooms();
      // Admitted workloads whose Pods are not bound yet hold room somewhere already.
      fit.pending = caches_.ledger_book().ChargesExcept(
          [&](const std::string& k) { return k == key || view->Bound(k); });
    }
    PlanInputs inputs{w, pod, provider, ledger, caches_.options().provider_name, Now()};
    if (view && may_admit) inputs.fit = &fit;
    inputs.schedule_timeout = options_.schedule_timeout;
    if (view && pod.exists && pod.owned && !pod.node_name.empty()) {
      inputs.node = NodeHealthOf(pod.node_name);
      inputs.node_lost_grace = options_.node_lost_grace;
    }
    inputs.image_pull_timeout = options_.image_pull_timeout;
    inputs.interrupted_deploy_after = options_.interrupted_deploy_after;
    inputs.orphan_grace = options_.orphan_grace;
    inputs.connected_provider_id = connected;
    WorkloadPlan plan = Plan(inputs);
    // An admission reserves its charge before the lock is let go, so the next admission
    // counts it while this one's status write is still in flight; the writes of
    // different workloads then overlap, while the decisions stay one at a time.
    bool admits = plan.status && plan.status->admission && !w.status.admission;
    if (admits) caches_.ledger_book().Reserve(key, plan.status->admission->charged);
    if (admission.owns_lock()) admission.unlock();
    std::optional<kube::json> next;
    try {
      next = Carry(key, raw, w, plan);
    } catch (...) {
      if (admits) caches_.ledger_book().DropReservation(key);
      throw;
    }
    if (admits) caches_.ledger_book().DropReservation(key);  // the write landed, or was not made
    if (!next) return plan.requeue_after;
    raw = std::move(*next);
    w = WorkloadFromJson(raw);
  }
  return std::nullopt;
}

NodeHealth WorkloadController::NodeHealthOf(const std::string& node) {
  NodeHealth h = caches_.node_view()->Health(node);
  bool grace_over =
      h.state == NodeHealth::State::kNotReady &&
      std::chrono::system_clock::now() >= h.not_ready_since + options_.node_lost_grace;
  if (h.state != NodeHealth::State::kMissing && !grace_over) return h;
  // The view says the node is gone, or NotReady past the grace: a live read must agree
  // before anything is released. A failed read throws and the reconcile is retried
  // (never act on uncertain state): an API server that refuses connections while its
  // watches still drain (a graceful shutdown) is an outage, not a lost node, and the
  // view's next look counts the grace again from then.
  try {
    NodeFacts live = NodeFactsFromJson(client_.Get(kube::resources::kNodes, "", node));
    if (live.ready) return {NodeHealth::State::kReady, {}};  // recovered: the view lags
    if (h.state == NodeHealth::State::kMissing) return {};   // still there: the view lags
    return h;
  } catch (const kube::Error& e) {
    if (!e.IsNotFound()) throw;
  }
  return {NodeHealth::State::kMissing, {}};
}

std::optional<kube::json> WorkloadController::Carry(const std::string& key, const kube::json& raw,
                                                    const Workload& w, const WorkloadPlan& plan) {
  std::optional<kube::json> next;  // the object after a step another step follows
  const std::string& ns = w.metadata.namespace_;
  const std::string& name = w.metadata.name;
  if (plan.add_finalizer || plan.remove_finalizer) {
    kube::json ops =
        FinalizerPatch(w.metadata.resource_version, w.metadata.finalizers, plan.add_finalizer);
    try {
      RequireLeading("a finalizer");
      kube::json answer = client_.Patch(kWorkloadResource, ns, name, kube::PatchType::kJson, ops);
      caches_.workloads().Assume(answer);
      if (plan.add_finalizer) next = std::move(answer);  // next: admission
    } catch (const kube::Error& e) {
      if (e.IsNotFound()) return std::nullopt;
      throw;
    }
  }
  if (plan.delete_workload) {
    kube::DeleteOptions o;
    o.precondition_uid = w.metadata.uid;  // this workload, not a later one of the same name
    RequireLeading("a workload deletion");
    try {
      client_.Delete(kWorkloadResource, ns, name, o);
      KLOG(kInfo, "controller") << key << ": deleted: the Deploy that created it never answered";
    } catch (const kube::Error& e) {
      if (!e.IsNotFound() && !e.IsConflict()) throw;
    }
  }
  if (plan.delete_pod) {
    kube::DeleteOptions o;
    RequireLeading("a Pod deletion");
    try {
      client_.Delete(kube::resources::kPods, ns, name, o);
    } catch (const kube::Error& e) {
      if (!e.IsNotFound()) throw;
    }
  }
  if (plan.create_pod) {
    ProviderSpec provider = caches_.CurrentProviderSpec();
    std::string why;
    auto image = ImageFor(w.spec, provider, &why);
    // The language map changed since admission: retry rather than run an empty image.
    if (!image) throw std::runtime_error("cannot create the Pod: " + why);
    std::string provider_id =
        w.spec.provider_id.empty() ? caches_.options().provider_name : w.spec.provider_id;
    RequireLeading("a Pod");
    try {
      // Seen at once by the next reconcile (which would otherwise try to create it
      // again) and by the Deploy waiting for it.
      caches_.pods().Assume(client_.Create(
          kube::resources::kPods, ns,
          BuildPod(w, provider, *image, provider_id, caches_.CurrentControlPlane().address,
                   {options_.node_selector, options_.component_user})));
    } catch (const kube::Error& e) {
      // Refused as invalid, it would be refused again: the workload fails instead of
      // retrying for ever, and a Deploy waiting for it hears why.
      if (e.IsInvalid()) {
        return Carry(key, raw, w, PodRefused(w, kube::EscapeText(e.what(), 1024), Now()));
      }
      if (!e.IsAlreadyExists()) throw;
    }
  }
  if (plan.status) {
    kube::json updated = raw;
    updated["status"] = ToJson(*plan.status);
    RequireLeading("a workload's status");
    kube::json answer =
        client_.UpdateStatus(kWorkloadResource, ns, updated);  // conditional on resourceVersion
    bool charge_changed = plan.status->admission.has_value() != w.status.admission.has_value();
    if (charge_changed) {
      caches_.ledger_book().Wrote(key, kube::ResourceVersionNumber(answer),
                                  plan.status->admission
                                      ? std::optional<Resources>(plan.status->admission->charged)
                                      : std::nullopt);
    }
    caches_.workloads().Assume(answer);
    if (charge_changed && !plan.status->admission) EnqueueRejected();  // capacity came back
    ReportOutcome(w.status, *plan.status);
    if (plan.status->admission && !w.status.admission) next = std::move(answer);  // next: the Pod
  }
  for (const auto& e : plan.events) events_->Record(raw, e.type, e.reason, e.message);
  return next;
}

}  // namespace iarnet
