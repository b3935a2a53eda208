#include "controller/workload_plan.h"

#include <algorithm>

#include "api/names.h"
#include "api/quantity.h"
#include "kube/time_format.h"

namespace iarnet {
namespace {

bool HasFinalizer(const Workload& w) {
  const auto& f = w.metadata.finalizers;
  return std::find(f.begin(), f.end(), kReleaseFinalizer) != f.end();
}

// Sets a condition, keeping lastTransitionTime when the status does not change.
void SetCondition(WorkloadStatus& s, const std::string& type, const std::string& status,
                  const std::string& reason, const std::string& message, int64_t generation,
                  const std::string& now) {
  for (auto& c : s.conditions) {
    if (c.type != type) continue;
    if (c.status != status) c.last_transition_time = now;
    c.status = status;
    c.reason = reason;
    c.message = message;
    c.observed_generation = generation;
    return;
  }
  s.conditions.push_back({type, status, reason, message, now, generation});
}

// The status after releasing the workload's charge for `reason`.
WorkloadStatus Released(const Workload& w, Phase phase, const std::string& reason,
                        const std::string& message, const std::string& now) {
  WorkloadStatus s = w.status;
  s.admission.reset();
  s.phase = phase;
  s.reason = reason;
  s.message = message;
  s.observed_generation = w.metadata.generation;
  SetCondition(s, "Admitted", "False", reason, "released: " + message, w.metadata.generation, now);
  SetCondition(s, "Ready", "False", reason, message, w.metadata.generation, now);
  return s;
}

// How long until a Pod that cannot pull its image is given up, counted from admission:
// <= 0 when it is due now; nullopt when no deadline applies.
std::optional<std::chrono::milliseconds> ImagePullDeadline(const PlanInputs& in) {
  if (in.image_pull_timeout.count() <= 0 || !IsImagePullFailure(in.pod.waiting_reason))
    return std::nullopt;
  auto admitted = kube::ParseTime(in.workload.status.admission->admitted_at);
  auto now = kube::ParseTime(in.now);
  if (!admitted || !now) return std::chrono::milliseconds(0);  // unreadable: do not wait forever
  return std::chrono::duration_cast<std::chrono::milliseconds>(*admitted + in.image_pull_timeout -
                                                               *now);
}

std::string Seconds(std::chrono::milliseconds d) {
  return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(d).count()) + "s";
}

void Finish(WorkloadPlan& plan, const Workload& w, WorkloadStatus s) {
  if (!(s == w.status)) plan.status = std::move(s);
}

// How long until a workload whose Deploy has not answered is given up, counted from its
// creation: <= 0 when due now; nullopt when the rule does not apply.
std::optional<std::chrono::milliseconds> InterruptedDeployDeadline(const PlanInputs& in) {
  const Workload& w = in.workload;
  if (in.interrupted_deploy_after.count() <= 0 || w.metadata.deleting || !DeployUnanswered(w))
    return std::nullopt;
  auto created = kube::ParseTime(w.metadata.created);
  auto now = kube::ParseTime(in.now);
  if (!created || !now) return std::nullopt;  // unreadable: never delete on a guess
  return std::chrono::duration_cast<std::chrono::milliseconds>(*created +
                                                               in.interrupted_deploy_after - *now);
}

// How long until an unschedulable Pod is given up, counted from when the scheduler
// first said so: <= 0 when due now; nullopt when the rule does not apply.
std::optional<std::chrono::milliseconds> UnschedulableDeadline(const PlanInputs& in) {
  const PodObservation& pod = in.pod;
  if (in.schedule_timeout.count() <= 0 || !pod.unschedulable || !pod.node_name.empty())
    return std::nullopt;
  auto now = kube::ParseTime(in.now);
  auto since = kube::ParseTime(pod.unschedulable_since);
  if (!since) since = kube::ParseTime(in.workload.status.admission->admitted_at);
  if (!since || !now) return in.schedule_timeout;  // unreadable: wait, never guess
  return std::chrono::duration_cast<std::chrono::milliseconds>(*since + in.schedule_timeout - *now);
}

// Whether the Pod's node is lost (deleted, or not Ready for node_lost_grace), and why.
std::optional<std::string> NodeLost(const PlanInputs& in) {
  if (in.node_lost_grace.count() <= 0 || in.pod.node_name.empty()) return std::nullopt;
  const std::string& node = in.pod.node_name;
  if (in.node.state == NodeHealth::State::kMissing) return "node " + node + " was deleted";
  if (in.node.state != NodeHealth::State::kNotReady) return std::nullopt;
  auto now = kube::ParseTime(in.now);
  if (!now || *now < in.node.not_ready_since + in.node_lost_grace) return std::nullopt;
  return "node " + node + " has not been Ready for " + Seconds(in.node_lost_grace);
}

// While the Pod's node is not Ready: how long until the grace ends.
std::optional<std::chrono::milliseconds> NodeNotReadyLeft(const PlanInputs& in) {
  if (in.node_lost_grace.count() <= 0 || in.node.state != NodeHealth::State::kNotReady)
    return std::nullopt;
  auto now = kube::ParseTime(in.now);
  if (!now) return in.node_lost_grace;
  return std::chrono::duration_cast<std::chrono::milliseconds>(in.node.not_ready_since +
                                                               in.node_lost_grace - *now);
}

WorkloadPlan PlanSteps(const PlanInputs& in);

// The orphan rule's part of a plan (PlanInputs::orphan_grace).
struct OrphanStep {
  bool applies = false;
  std::string orphaned_at;                        // what status.orphanedAt should be
  std::optional<std::chrono::milliseconds> left;  // until the deletion; <= 0: now
};

OrphanStep Orphan(const PlanInputs& in) {
  const Workload& w = in.workload;
  OrphanStep o;
  if (in.orphan_grace.count() <= 0 || !in.connected_provider_id || w.metadata.deleting ||
      !CreatedByDeploy(w) || w.spec.provider_id.empty() || DeployUnanswered(w))
    return o;
  o.applies = true;
  if (*in.connected_provider_id == w.spec.provider_id) return o;  // its session lasts
  o.orphaned_at = w.status.orphaned_at.empty() ? in.now : w.status.orphaned_at;
  auto since = kube::ParseTime(o.orphaned_at);
  auto now = kube::ParseTime(in.now);
  if (!since || !now) {
    o.orphaned_at = in.now;  // unreadable: start the grace again rather than guess
    o.left = in.orphan_grace;
    return o;
  }
  o.left = std::chrono::duration_cast<std::chrono::milliseconds>(*since + in.orphan_grace - *now);
  return o;
}

// Adds the orphan step to the plan of everything else.
WorkloadPlan WithOrphanStep(const PlanInputs& in, const OrphanStep& o, WorkloadPlan plan) {
  const Workload& w = in.workload;
  if (!o.applies) return plan;
  if (o.left) {
    plan.requeue_after = plan.requeue_after ? std::min(*plan.requeue_after, *o.left) : *o.left;
  }
  const std::string& planned = plan.status ? plan.status->orphaned_at : w.status.orphaned_at;
  if (planned == o.orphaned_at) return plan;
  if (!plan.status) plan.status = w.status;
  plan.status->orphaned_at = o.orphaned_at;
  if (o.orphaned_at.empty()) {
    plan.events.push_back({"Normal", "SessionResumed",
                           "control plane " + w.spec.provider_id + " is connected again"});
  } else {
    plan.events.push_back({"Warning", "Orphaned",
                           "the session of control plane " + w.spec.provider_id +
                               " that deployed this workload ended; deleting it in " +
                               Seconds(in.orphan_grace) +
                               " unless it comes back (provider.orphan_policy)"});
  }
  return plan;
}

}  // namespace

WorkloadPlan Plan(const PlanInputs& in) {
  OrphanStep orphan = Orphan(in);
  if (orphan.left && orphan.left->count() <= 0) {
    WorkloadPlan plan;
    plan.delete_workload = true;
    plan.events.push_back({"Warning", "OrphanDeleted",
                           "the session of control plane " + in.workload.spec.provider_id +
                               " ended " + Seconds(in.orphan_grace) +
                               " ago and nobody can undeploy this workload; deleting it"});
    return plan;
  }
  auto left = InterruptedDeployDeadline(in);
  if (!left) return WithOrphanStep(in, orphan, PlanSteps(in));
  if (left->count() <= 0) {
    WorkloadPlan plan;
    plan.delete_workload = true;
    plan.events.push_back(
        {"Warning", "DeployInterrupted",
         "the Deploy that created this workload never answered success (the provider stopped "
         "while it ran), so its caller never uses it; deleting it"});
    return plan;
  }
  WorkloadPlan plan = PlanSteps(in);
  plan.requeue_after = plan.requeue_after ? std::min(*plan.requeue_after, *left) : *left;
  return plan;
}

namespace {

WorkloadPlan PlanSteps(const PlanInputs& in) {
  const Workload& w = in.workload;
  const PodObservation& pod = in.pod;
  const int64_t gen = w.metadata.generation;
  WorkloadPlan plan;

  // Deletion: the Pod goes first, then the charge, then the finalizer.
  if (w.metadata.deleting) {
    if (pod.exists && pod.owned && !pod.deleting) plan.delete_pod = true;
    if (pod.exists && pod.owned) return plan;  // wait until the Pod is gone
    if (w.status.admission) {
      plan.status = Released(w, w.status.phase.value_or(Phase::kPending), "WorkloadDeleted",
                             "the workload is being deleted", in.now);
      plan.events.push_back(
          {"Normal", "Released", "released " + Describe(w.status.admission->charged)});
      return plan;
    }
    if (HasFinalizer(w)) plan.remove_finalizer = true;
    return plan;
  }
  if (!HasFinalizer(w)) {
    plan.add_finalizer = true;
    return plan;  // the finalizer is in place before anything can be charged
  }

  WorkloadStatus s = w.status;
  s.observed_generation = gen;

  if (!w.status.admission) {
    // Ended workloads stay ended; everything else waits for admission.
    if (w.status.phase == Phase::kSucceeded || w.status.phase == Phase::kFailed) return plan;
    // A Deploy's workload, once rejected, stays rejected: the control plane was told the
    // Deploy failed and never uses that component, so it must not run when capacity
    // frees (PROTOCOL.md). Workloads applied with kubectl or GitOps wait for capacity.
    if (w.status.phase == Phase::kRejected && CreatedByDeploy(w)) return plan;
    std::string why;
    auto image = ImageFor(w.spec, in.provider, &why);
    Verdict v =
        image ? Admit(in.ledger, w.spec.resources) : Verdict{false, "UnsupportedLanguage", why};
    if (v.admitted && in.fit) {
      FitVerdict f = FitNode(in.fit->rooms, in.fit->pending, w.spec.resources, w.spec.gpu_model);
      if (f.fits) {
        v.message += "; node " + f.node + " can hold it";
      } else {
        v = {false, "NoNodeFits", f.message};
      }
    }
    if (!v.admitted) {
      // Still rejected for the same reason, with the same spec: the record stands. Its
      // numbers are those of the moment it was rejected (the condition's
      // lastTransitionTime); the live ones are in the provider's status. Rewriting every
      // waiting workload whenever a foreign Pod moved the totals by a MiB was a storm of
      // writes and Events (one per waiting workload per change) that starved the rest.
      if (w.status.phase == Phase::kRejected && w.status.reason == v.reason &&
          w.status.observed_generation == gen)
        return plan;
      s.phase = Phase::kRejected;
      s.reason = v.reason;
      s.message = v.message;
      SetCondition(s, "Admitted", "False", v.reason, v.message, gen, in.now);
      plan.events.push_back({"Warning", "Rejected", v.message});
      Finish(plan, w, std::move(s));
      return plan;
    }
    s.admission = Admission{w.spec.resources, in.provider_name, in.now};
    s.phase = Phase::kAdmitted;
    s.reason = "Admitted";
    s.message = v.message;
    SetCondition(s, "Admitted", "True", "Admitted", v.message, gen, in.now);
    plan.events.push_back({"Normal", "Admitted", v.message});
    Finish(plan, w, std::move(s));
    return plan;  // the Pod is created once the charge is recorded
  }

  // Admitted: the Pod.
  if (!pod.exists) {
    if (!w.status.pod_name.empty()) {
      // It existed and is gone, and we did not delete it: release, do not recreate.
      plan.status =
          Released(w, Phase::kFailed, "PodDeleted", "the Pod was deleted by someone else", in.now);
      plan.events.push_back(
          {"Warning", "PodDeleted",
           "the Pod was deleted; released " + Describe(w.status.admission->charged)});
      return plan;
    }
    // Only the Pod: its name goes into the status once the Pod is seen, with its progress
    // (one write fewer per workload). A Pod deleted before it was ever seen is created
    // again, as if its creation had failed.
    plan.create_pod = true;
    return plan;
  }
  if (!pod.owned) {
    s.reason = "PodNameTaken";
    s.message = "a Pod named " + w.metadata.name + " exists and is not owned by this workload";
    SetCondition(s, "Ready", "False", s.reason, s.message, gen, in.now);
    Finish(plan, w, std::move(s));
    return plan;
  }
  s.pod_name = w.metadata.name;
  if (!pod.node_name.empty()) s.node_name = pod.node_name;
  if (!pod.start_time.empty()) s.start_time = pod.start_time;

  if (pod.phase == "Succeeded" || pod.phase == "Failed") {
    bool ok = pod.phase == "Succeeded";
    std::string reason = ok                               ? "PodSucceeded"
                         : !pod.reason.empty()            ? pod.reason  // Evicted, ...
                         : !pod.terminated_reason.empty() ? pod.terminated_reason
                                                          : "PodFailed";
    std::string message = ok ? "the component exited successfully" : "the component failed";
    if (pod.exit_code) message += " (exit code " + std::to_string(*pod.exit_code) + ")";
    if (!pod.message.empty()) message += ": " + pod.message;
    WorkloadStatus r =
        Released(w, ok ? Phase::kSucceeded : Phase::kFailed, reason, message, in.now);
    r.pod_name = s.pod_name;
    r.node_name = s.node_name;
    r.start_time = s.start_time;
    r.exit_code = pod.exit_code;
    plan.status = std::move(r);
    plan.events.push_back({ok ? "Normal" : "Warning", reason,
                           message + "; released " + Describe(w.status.admission->charged)});
    return plan;
  }
  if (auto lost = NodeLost(in)) {
    WorkloadStatus r = Released(w, Phase::kFailed, "NodeLost", *lost, in.now);
    r.pod_name = s.pod_name;
    r.node_name = s.node_name;
    r.start_time = s.start_time;
    plan.status = std::move(r);
    plan.delete_pod = !pod.deleting;
    plan.events.push_back(
        {"Warning", "NodeLost",
         *lost + "; deleted the Pod, released " + Describe(w.status.admission->charged)});
    return plan;
  }
  if (auto left = UnschedulableDeadline(in); left && left->count() <= 0) {
    std::string message = "no node could run the Pod within " + Seconds(in.schedule_timeout) +
                          (pod.scheduler_message.empty() ? "" : ": " + pod.scheduler_message);
    WorkloadStatus r = Released(w, Phase::kFailed, "Unschedulable", message, in.now);
    r.pod_name = s.pod_name;
    plan.status = std::move(r);
    plan.delete_pod = !pod.deleting;
    plan.events.push_back(
        {"Warning", "Unschedulable",
         message + "; deleted the Pod, released " + Describe(w.status.admission->charged)});
    return plan;
  } else if (left) {
    plan.requeue_after = *left;
    s.phase = Phase::kAdmitted;
    s.reason = "Unschedulable";
    s.message =
        pod.scheduler_message.empty() ? "no node can run the Pod yet" : pod.scheduler_message;
    SetCondition(s, "Ready", "False", s.reason, s.message, gen, in.now);
    Finish(plan, w, std::move(s));
    return plan;
  }
  if (auto left = NodeNotReadyLeft(in)) plan.requeue_after = *left;
  if (pod.phase == "Running") {
    s.phase = Phase::kRunning;
    s.reason = "PodRunning";
    s.message = "running on " + pod.node_name;
    SetCondition(s, "Ready", "True", "PodRunning", s.message, gen, in.now);
  } else if (auto left = ImagePullDeadline(in); left && left->count() <= 0) {
    std::string message = "the image could not be pulled within " +
                          std::to_string(in.image_pull_timeout.count() / 1000) + "s" +
                          (pod.waiting_message.empty() ? "" : ": " + pod.waiting_message);
    WorkloadStatus r = Released(w, Phase::kFailed, pod.waiting_reason, message, in.now);
    r.pod_name = s.pod_name;
    r.node_name = s.node_name;
    plan.status = std::move(r);
    plan.delete_pod = !pod.deleting;  // the kubelet would keep pulling
    plan.events.push_back(
        {"Warning", pod.waiting_reason,
         message + "; deleted the Pod, released " + Describe(w.status.admission->charged)});
    return plan;
  } else if (pod.waiting_reason.empty() && w.status.pod_name.empty() &&
             w.status.reason == "Admitted") {
    // Just created and on its way (scheduling, starting): nothing worth a write yet; the
    // next change of the Pod (Running, or waiting for a reason) is recorded with its name.
    return plan;
  } else {
    if (left)
      plan.requeue_after = plan.requeue_after ? std::min(*plan.requeue_after, *left) : *left;
    s.phase = Phase::kAdmitted;
    s.reason = pod.waiting_reason.empty() ? "PodPending" : pod.waiting_reason;
    s.message = pod.waiting_message.empty() ? "waiting for the Pod to start" : pod.waiting_message;
    SetCondition(s, "Ready", "False", s.reason, s.message, gen, in.now);
  }
  Finish(plan, w, std::move(s));
  return plan;
}

}  // namespace

bool IsImagePullFailure(const std::string& r) {
  return r == "ErrImagePull" || r == "ImagePullBackOff" || r == "InvalidImageName" ||
         r == "ErrImageNeverPull";
}

WorkloadPlan PodRefused(const Workload& w, const std::string& message, const std::string& now) {
  WorkloadPlan plan;
  std::string why = "the API server refused the Pod: " + message;
  plan.status = Released(w, Phase::kFailed, "PodInvalid", why, now);
  std::string released =
      w.status.admission ? "; released " + Describe(w.status.admission->charged) : "";
  plan.events.push_back({"Warning", "PodInvalid", why + released});
  return plan;
}

bool MapsHostInternal(const std::vector<HostAlias>& aliases) {
  for (const auto& a : aliases) {
    for (const auto& h : a.hostnames) {
      if (h == kHostInternal) return true;
    }
  }
  return false;
}

std::vector<HostAlias> HostAliasesFor(const ProviderSpec& provider,
                                      const std::string& control_plane_address) {
  std::vector<HostAlias> aliases = provider.host_aliases;
  if (!control_plane_address.empty() && !MapsHostInternal(aliases)) {
    aliases.push_back({control_plane_address, {kHostInternal}});
  }
  return aliases;
}

json BuildPod(const Workload& w, const ProviderSpec& provider, const std::string& image,
              const std::string& provider_id, const std::string& control_plane_address,
              const PodPolicy& policy) {
  json env = json::array();
  for (const auto& e : w.spec.env) env.push_back({{"name", e.name}, {"value", e.value}});
  json quantities = {{"cpu", FormatMillicores(w.spec.resources.cpu)},
                     {"memory", std::to_string(w.spec.resources.memory)}};
  if (w.spec.resources.gpu > 0) quantities["nvidia.com/gpu"] = std::to_string(w.spec.resources.gpu);
  json pod = {
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata",
       {{"name", w.metadata.name},
        {"namespace", w.metadata.namespace_},
        {"labels",
         {{kManagedLabel, "true"},
          {kProviderIdLabel, LabelValueFor(provider_id)},
          {kInstanceIdLabel, LabelValueFor(w.spec.instance_id)}}},
        // Label values are limited to 63 plain characters; the ids in full:
        {"annotations",
         {{kInstanceIdAnnotation, w.spec.instance_id}, {kProviderIdAnnotation, provider_id}}},
        {"ownerReferences", json::array({{{"apiVersion", kApiVersion},
                                          {"kind", kWorkloadKind},
                                          {"name", w.metadata.name},
                                          {"uid", w.metadata.uid},
                                          {"controller", true},
                                          {"blockOwnerDeletion", true}}})}}},
      {"spec",
       {{"restartPolicy", "Never"},
        {"automountServiceAccountToken", false},
        {"securityContext", {{"seccompProfile", {{"type", "RuntimeDefault"}}}}},
        {"containers",
         json::array({{{"name", kContainerName},
                       {"image", image},
                       {"env", env},
                       {"resources", {{"requests", quantities}, {"limits", quantities}}},
                       {"securityContext",
                        {{"allowPrivilegeEscalation", false},
                         {"capabilities", {{"drop", json::array({"ALL"})}}}}}}})}}}};
  if (policy.run_as_user) {
    json& context = pod["spec"]["securityContext"];
    context["runAsNonRoot"] = true;
    context["runAsUser"] = *policy.run_as_user;
    context["runAsGroup"] = *policy.run_as_user;
  }
  if (!policy.node_selector.empty()) pod["spec"]["nodeSelector"] = policy.node_selector;
  if (!w.spec.gpu_model.empty()) {
    json term = {
        {"matchExpressions", json::array({{{"key", kGpuProductLabel},
                                           {"operator", "In"},
                                           {"values", json::array({w.spec.gpu_model})}}})}};
    pod["spec"]["affinity"] = {{"nodeAffinity",
                                {{"requiredDuringSchedulingIgnoredDuringExecution",
                                  {{"nodeSelectorTerms", json::array({term})}}}}}};
  }
  std::vector<HostAlias> host_aliases = HostAliasesFor(provider, control_plane_address);
  if (!host_aliases.empty()) {
    json aliases = json::array();
    for (const auto& h : host_aliases)
      aliases.push_back({{"ip", h.ip}, {"hostnames", h.hostnames}});
    pod["spec"]["hostAliases"] = aliases;
  }
  return pod;
}

json FinalizerPatch(const std::string& resource_version, const std::vector<std::string>& finalizers,
                    bool with_release) {
  json kept = json::array();
  for (const auto& f : finalizers) {
    if (f != kReleaseFinalizer) kept.push_back(f);
  }
  if (with_release) kept.push_back(kReleaseFinalizer);
  return json::array(
      {{{"op", "test"}, {"path", "/metadata/resourceVersion"}, {"value", resource_version}},
       {{"op", "add"}, {"path", "/metadata/finalizers"}, {"value", kept}}});
}

PodObservation ObservePod(const json& pod, const std::string& workload_uid) {
  PodObservation o;
  o.exists = true;
  const json& meta = pod.value("metadata", json::object());
  auto owner = ControlledByWorkload(pod);
  o.owned = owner && owner->uid == workload_uid;
  o.deleting = meta.contains("deletionTimestamp") && !meta["deletionTimestamp"].is_null();
  const json& status = pod.value("status", json::object());
  o.phase = status.value("phase", "");
  o.node_name = pod.value("spec", json::object()).value("nodeName", "");
  o.start_time = status.value("startTime", "");
  o.reason = status.value("reason", "");
  o.message = status.value("message", "");
  for (const auto& c : status.value("conditions", json::array())) {
    if (c.value("type", "") != "PodScheduled") continue;
    o.unschedulable = c.value("status", "") == "False" && c.value("reason", "") == "Unschedulable";
    if (o.unschedulable) {
      o.unschedulable_since = c.value("lastTransitionTime", "");
      o.scheduler_message = c.value("message", "");
    }
  }
  for (const auto& cs : status.value("containerStatuses", json::array())) {
    if (cs.value("name", "") != kContainerName) continue;
    const json& state = cs.value("state", json::object());
    o.running = state.contains("running");
    if (state.contains("waiting")) {
      o.waiting_reason = state["waiting"].value("reason", "");
      o.waiting_message = state["waiting"].value("message", "");
    }
    if (state.contains("terminated")) {
      o.exit_code = state["terminated"].value("exitCode", 0);
      o.terminated_reason = state["terminated"].value("reason", "");
    }
  }
  return o;
}

}  // namespace iarnet
