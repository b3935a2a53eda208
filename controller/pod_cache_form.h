// What the operator keeps of a Pod in its cache. A Pod as the API server returns it is
// mostly defaults (volumes, mounts, tolerations, conditions, ...) the operator never
// reads; with thousands of workloads the cache is most of the process's memory, so the
// Pod informer keeps only the fields read by ObservePod, AsOwnedPod and EnqueueOwner.
// Pure.
#pragma once

#include <nlohmann/json.hpp>

namespace iarnet {

// Reduces `pod` in place to: metadata {name, namespace, uid, resourceVersion, labels,
// annotations, ownerReferences, deletionTimestamp}, spec {nodeName, containers[] {name,
// resources}}, status {phase, reason, message, startTime, containerStatuses[] {name,
// state}}.
void KeepWhatThePodCacheNeeds(nlohmann::json& pod);

}  // namespace iarnet
