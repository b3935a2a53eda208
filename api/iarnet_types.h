// The two custom resources (crds/) as C++ values, and their JSON mapping. Pure: the
// reconcilers read objects through these and write status back through them, so the
// shape of the resources lives in one place.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace iarnet {

using json = nlohmann::json;

// cpu in millicores, memory in bytes, gpu in devices.
struct Resources {
  int64_t cpu = 0;
  int64_t memory = 0;
  int64_t gpu = 0;
  bool operator==(const Resources&) const = default;
};

// A capacity component with no configured cap ("auto" in config.yaml, the Helm values
// and the IarnetProvider's spec): the nodes alone decide it (controller/node_fit.h).
inline constexpr int64_t kUncapped = INT64_MAX;

enum class Language { kJson, kGo, kPython, kUnikernel };
// "json", "go", "python", "unikernel" (the CRD's enum); also accepts the protocol's
// LANG_* names. nullopt for anything else.
std::optional<Language> ParseLanguage(const std::string& text);
std::string ToString(Language language);

enum class Phase { kPending, kAdmitted, kRunning, kSucceeded, kFailed, kRejected };
std::optional<Phase> ParsePhase(const std::string& text);
std::string ToString(Phase phase);

struct Condition {
  std::string type;
  std::string status;  // "True", "False", "Unknown"
  std::string reason;
  std::string message;
  std::string last_transition_time;
  int64_t observed_generation = 0;
  bool operator==(const Condition&) const = default;
};

struct EnvVar {
  std::string name;
  std::string value;
  bool operator==(const EnvVar&) const = default;
};

// What a workload was charged to the ledger: set once on admission, removed on release.
struct Admission {
  Resources charged;
  std::string provider;
  std::string admitted_at;
  bool operator==(const Admission&) const = default;
};

struct ObjectMeta {
  std::string name;
  std::string namespace_;
  std::string uid;
  std::string resource_version;
  int64_t generation = 0;
  std::string created;    // metadata.creationTimestamp (RFC 3339, the API server's clock)
  bool deleting = false;  // metadata.deletionTimestamp is set
  std::vector<std::string> finalizers;
  json labels = json::object();
  json annotations = json::object();
};

struct WorkloadSpec {
  std::string instance_id;
  std::string image;
  std::optional<Language> language;
  std::string provider_id;
  Resources resources;
  std::vector<EnvVar> env;
  // The GPU model its node must carry (the nvidia.com/gpu.product label); "" any. Set
  // by kubectl and GitOps users: the gRPC protocol has only a GPU count.
  std::string gpu_model;
};

struct WorkloadStatus {
  std::optional<Phase> phase;
  int64_t observed_generation = 0;
  std::string pod_name;
  std::string node_name;
  std::string start_time;
  std::string reason;
  std::string message;
  std::optional<int> exit_code;
  std::optional<Admission> admission;
  std::vector<Condition> conditions;
  // When the control-plane session that deployed it was first seen ended (RFC 3339;
  // "" while it lasts): the orphan grace counts from here (workload_plan.h).
  std::string orphaned_at;
  bool operator==(const WorkloadStatus&) const = default;
};

struct Workload {
  ObjectMeta metadata;
  WorkloadSpec spec;
  WorkloadStatus status;
};

struct ResourceTags {
  bool cpu = false, gpu = false, memory = false, camera = false;
  bool operator==(const ResourceTags&) const = default;
};

struct LanguageImage {
  Language language;
  std::string image;
  bool operator==(const LanguageImage&) const = default;
};

struct HostAlias {
  std::string ip;
  std::vector<std::string> hostnames;
  bool operator==(const HostAlias&) const = default;
};

struct ProviderSpec {
  Resources capacity;
  ResourceTags resource_tags;
  std::vector<LanguageImage> languages;
  std::vector<HostAlias> host_aliases;
};

struct ControlPlane {
  std::string provider_id;
  std::string connected_at;
  std::string last_health_check;
  // The control plane's IP as the provider saw it on Connect, when Pods can reach it:
  // what host.internal maps to in component Pods without a configured alias.
  std::string address;
  // The interval between its health checks as the provider measured it, in whole
  // seconds rounded up (0: not measured yet): what decides how soon another id may take
  // over (connection.h).
  int64_t health_check_interval_seconds = 0;
  bool operator==(const ControlPlane&) const = default;
};

// What the nodes can hold for this provider (capacity.source: nodes; controller/node_fit.h).
struct NodeRoom {
  std::string name;
  Resources free;  // allocatable minus the requests of every Pod on it, ours included
  int64_t pods_free = 0;
  std::string gpu_model;  // its nvidia.com/gpu.product label
  bool operator==(const NodeRoom&) const = default;
};
struct GpuModelCount {
  std::string model;
  int64_t total = 0;  // allocatable on the eligible nodes of this model
  int64_t free = 0;
  bool operator==(const GpuModelCount&) const = default;
};
struct ClusterView {
  int64_t eligible_nodes = 0;
  Resources allocatable;  // of the eligible nodes
  Resources free;         // allocatable minus every Pod's requests
  // The largest request of each resource alone that some node can hold now.
  Resources largest_placeable;
  std::vector<NodeRoom> nodes;  // the eligible nodes with the most free cpu, at most 50
  std::vector<GpuModelCount> gpus;
  bool operator==(const ClusterView&) const = default;
};

struct ProviderStatus {
  Resources total, used, available;
  int64_t admitted_count = 0;
  std::optional<ClusterView> cluster;  // absent with capacity.source: config
  ControlPlane control_plane;
  std::vector<Condition> conditions;
  int64_t observed_generation = 0;
  bool operator==(const ProviderStatus&) const = default;
};

struct Provider {
  ObjectMeta metadata;
  ProviderSpec spec;
  ProviderStatus status;
};

// An object that does not have the shape the CRD promises (the API server validates,
// so this means a bug or a different version): says which field.
struct MappingError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

Workload WorkloadFromJson(const json& object);
// Just the admission record of a workload object (cheap: the ledger reads it for every
// workload on every reconcile, so it does not map the whole object).
std::optional<Admission> AdmissionFromJson(const json& workload);
Provider ProviderFromJson(const json& object);
json ToJson(const WorkloadStatus& status);
json ToJson(const ProviderStatus& status);  // includes the printer columns' display strings
json ToJson(const ProviderSpec& spec);

// The IarnetWorkload that controls `object` (a Pod): its controller ownerReference,
// when that names an IarnetWorkload of our API version.
struct WorkloadRef {
  std::string name;
  std::string uid;
};
std::optional<WorkloadRef> ControlledByWorkload(const json& object);

// Whether the gRPC front end created the workload for a Deploy (kCreatedByAnnotation):
// the control plane was told how that Deploy ended, and acts on it.
bool CreatedByDeploy(const Workload& workload);
// Whether it was created by a Deploy that has not answered success (kDeployAnnotation).
// Workloads from before the annotation existed carry none: never unanswered.
bool DeployUnanswered(const Workload& workload);

// The spec as the CRD writes it (what WorkloadFromJson reads back).
json ToJson(const WorkloadSpec& spec);

// The image a workload runs: spec.image, else the provider's image for its language.
// nullopt (with `why` filled in) when there is none.
std::optional<std::string> ImageFor(const WorkloadSpec& spec, const ProviderSpec& provider,
                                    std::string* why);

}  // namespace iarnet
