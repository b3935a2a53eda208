// What to do about one IarnetWorkload, decided from what was observed: a pure function,
// as a controller-runtime reconciler is a function from observed state to actions. The
// I/O layer observes (workload, its Pod, the ledger), calls Plan, and carries the plan
// out through the API server; running it twice on the same observation plans the same.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api/iarnet_types.h"
#include "api/vocabulary.h"
#include "controller/ledger.h"
#include "controller/node_fit.h"

namespace iarnet {

// What the I/O layer saw of the workload's Pod. `exists` must be authoritative: a Pod
// missing from a cache is confirmed with a live read before Plan is told it is gone.
struct PodObservation {
  bool exists = false;
  bool owned = false;     // its controller ownerReference is this workload
  bool deleting = false;  // deletionTimestamp set
  std::string phase;      // Pending, Running, Succeeded, Failed, Unknown
  std::string node_name;
  std::string start_time;
  std::string reason;   // pod.status.reason (e.g. Evicted)
  std::string message;  // pod.status.message
  // The main container: running now, why it is waiting (ErrImagePull, ...) or how it
  // ended.
  bool running = false;
  std::string waiting_reason;
  std::string waiting_message;
  std::optional<int> exit_code;
  std::string terminated_reason;  // Completed, Error, OOMKilled, ...
  // The scheduler found no node for it (PodScheduled False, reason Unschedulable): since
  // when (the condition's lastTransitionTime) and the scheduler's words.
  bool unschedulable = false;
  std::string unschedulable_since;
  std::string scheduler_message;
};

// What admission needs from the node view: the eligible nodes' rooms and the charges of
// admitted workloads whose Pods are not bound yet (placed first, first fit).
struct NodeFitInput {
  std::vector<Room> rooms;
  std::vector<Resources> pending;
};

struct Event {
  std::string type;  // Normal or Warning
  std::string reason;
  std::string message;
  bool operator==(const Event&) const = default;
};

struct WorkloadPlan {
  bool add_finalizer = false;
  bool remove_finalizer = false;
  bool create_pod = false;
  bool delete_pod = false;
  bool delete_workload = false;          // its Deploy was interrupted: nobody will use it
  std::optional<WorkloadStatus> status;  // write when set (conditional on resourceVersion)
  std::vector<Event> events;
  // Reconcile again after this long although nothing changes (a deadline is pending).
  std::optional<std::chrono::milliseconds> requeue_after;
  // No API write to make (a pending requeue is not one).
  bool Empty() const {
    return !add_finalizer && !remove_finalizer && !create_pod && !delete_pod && !delete_workload &&
           !status && events.empty();
  }
};

struct PlanInputs {
  const Workload& workload;
  const PodObservation& pod;
  const ProviderSpec& provider;
  const Ledger& ledger;  // computed from every workload's admission record
  std::string provider_name;
  std::string now;  // RFC 3339, for admittedAt and condition transition times
  // A Pod whose image cannot be pulled this long after admission is deleted and the
  // workload fails, releasing its charge (the kubelet would retry forever). 0: never.
  std::chrono::milliseconds image_pull_timeout{0};
  // A workload whose Deploy has not answered success (DeployUnanswered) this long after
  // its creation is deleted: that Deploy has ended by then (it waits at most
  // provider.deploy_timeout), so it was interrupted by a provider crash, its caller got
  // an error and never uses the component. Only such workloads: one whose Deploy
  // answered success, or that kubectl or GitOps applied, is never deleted. 0: never.
  std::chrono::milliseconds interrupted_deploy_after{0};
  // Orphans. A workload a Deploy created for provider id P (spec.providerId) is
  // orphaned while the connected control plane is not P: its session ended (Disconnect,
  // silence past the takeover rule, another id connected), and no caller is left to
  // undeploy it. It is stamped status.orphanedAt when first seen so, deleted
  // orphan_grace later unless P comes back (the stamp is then cleared). Workloads kubectl
  // or GitOps applied are never orphans. orphan_grace 0 (policy keep): never deleted.
  std::chrono::milliseconds orphan_grace{0};
  // The connected control plane's provider id ("" none); nullopt: not known (the rule
  // then does nothing).
  std::optional<std::string> connected_provider_id{};
  // The node view's part (capacity.source nodes); null: admission checks the ledger only.
  const NodeFitInput* fit = nullptr;
  // A Pod the scheduler cannot place this long (counted from when it first said so)
  // ends the workload: Failed, reason Unschedulable, Pod deleted, charge released. 0: never.
  std::chrono::milliseconds schedule_timeout{0};
  // The health of the node the Pod is bound to. kMissing must be confirmed with a live
  // read before Plan is told (never act on a cache that only lags). A node missing, or
  // not Ready for node_lost_grace, ends the workload with reason NodeLost. 0: never.
  NodeHealth node{};
  std::chrono::milliseconds node_lost_grace{0};
};

// The waiting reasons that mean the image will not come by itself (ErrImagePull,
// ImagePullBackOff, InvalidImageName, ErrImageNeverPull).
bool IsImagePullFailure(const std::string& waiting_reason);

WorkloadPlan Plan(const PlanInputs& in);

// The plan when the API server refused the Pod that admitted workload `w` needs as
// invalid (422: its validation or an admission policy said no). Retrying cannot help, so
// the workload fails (reason PodInvalid, the server's message) and its charge is released.
WorkloadPlan PodRefused(const Workload& w, const std::string& message, const std::string& now);

// Whether a configured alias names host.internal.
bool MapsHostInternal(const std::vector<HostAlias>& aliases);
// The host aliases of component Pods: the configured ones; and, unless one of them
// already names host.internal (a configured alias always wins), host.internal mapped to
// `control_plane_address` (the control plane's IP kept at Connect; "" for none).
std::vector<HostAlias> HostAliasesFor(const ProviderSpec& provider,
                                      const std::string& control_plane_address);

// Where component Pods go and as whom they run, from the configuration.
struct PodPolicy {
  std::map<std::string, std::string> node_selector;  // capacity.node_selector
  std::optional<int64_t> run_as_user;                // provider.component_user
};

// The Pod a workload runs in (name = the workload's name): a controller ownerReference,
// the iarnet labels, one container "main" with the env, requests = limits, GPUs as
// nvidia.com/gpu, restartPolicy Never, and HostAliasesFor(provider, control_plane_address).
// The Pod also selects the nodes of `policy.node_selector`, and with spec.gpuModel
// requires a node of that model (node affinity on nvidia.com/gpu.product).
// Confined as far as any component allows: no ServiceAccount token (a component never
// talks to the Kubernetes API), no privilege escalation, no capabilities, the runtime's
// default seccomp profile. With `policy.run_as_user` it also runs as that non-root user,
// which completes the "restricted" Pod Security Standard; without it the image's user
// stays (iarnet's component images run as root).
json BuildPod(const Workload& w, const ProviderSpec& provider, const std::string& image,
              const std::string& provider_id, const std::string& control_plane_address = "",
              const PodPolicy& policy = {});

// A JSON patch setting a workload's finalizers to `finalizers` without ours, plus ours
// when `with_release`, applied only if the workload is still at `resource_version`.
json FinalizerPatch(const std::string& resource_version, const std::vector<std::string>& finalizers,
                    bool with_release);

// Reads a Pod object into what Plan needs; `workload_uid` decides ownership.
PodObservation ObservePod(const json& pod, const std::string& workload_uid);

}  // namespace iarnet
