// The names the two custom resources (crds/) and their Pods are known by, written once
// for the controller, the gRPC front end, the tests and the benchmarks.
#pragma once

namespace iarnet {

inline constexpr const char* kGroup = "iarnet.io";
inline constexpr const char* kVersion = "v1alpha1";
inline constexpr const char* kApiVersion = "iarnet.io/v1alpha1";  // kGroup/kVersion
inline constexpr const char* kWorkloadKind = "IarnetWorkload";
inline constexpr const char* kWorkloadPlural = "iarnetworkloads";
inline constexpr const char* kProviderKind = "IarnetProvider";
inline constexpr const char* kProviderPlural = "iarnetproviders";

// Labels on every Pod of a workload (DESIGN.md invariant 5); label values are the
// label-safe forms of the ids (names.h).
inline constexpr const char* kManagedLabel = "iarnet.managed";
inline constexpr const char* kProviderIdLabel = "iarnet.provider_id";
inline constexpr const char* kInstanceIdLabel = "iarnet.instance_id";
// Selects the Pods of workloads (the default of kubernetes.label_selector).
inline constexpr const char* kManagedSelector = "iarnet.managed=true";

// Annotations: the ids in full on the Pod, and who created a workload ("grpc").
inline constexpr const char* kInstanceIdAnnotation = "iarnet.io/instance-id";
inline constexpr const char* kProviderIdAnnotation = "iarnet.io/provider-id";
inline constexpr const char* kCreatedByAnnotation = "iarnet.io/created-by";
// How the Deploy that created a workload ended, as far as the control plane was told:
// "pending" from creation until the Deploy answers success, then "answered" (written
// just before the answer). A Deploy that fails deletes its workload; one that never
// answered (the provider died meanwhile) leaves "pending", and the controller deletes
// such a workload once that Deploy must have ended (workload_plan.h).
inline constexpr const char* kDeployAnnotation = "iarnet.io/deploy";
inline constexpr const char* kDeployPending = "pending";
inline constexpr const char* kDeployAnswered = "answered";

// The node label GPU feature discovery puts on a node: the model of its GPUs.
inline constexpr const char* kGpuProductLabel = "nvidia.com/gpu.product";
// The extended resource a GPU is counted as.
inline constexpr const char* kGpuResource = "nvidia.com/gpu";

// The finalizer that holds a workload until its charge is released.
inline constexpr const char* kReleaseFinalizer = "iarnet.io/release";

// The one container of a workload's Pod.
inline constexpr const char* kContainerName = "main";
// The name by which components reach the control plane (PROTOCOL.md).
inline constexpr const char* kHostInternal = "host.internal";

}  // namespace iarnet
