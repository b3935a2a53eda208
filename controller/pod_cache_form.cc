#include "controller/pod_cache_form.h"

#include "controller/json_prune.h"

namespace iarnet {

using json = nlohmann::json;

void KeepWhatThePodCacheNeeds(json& pod) {
  if (!pod.is_object()) return;
  KeepOnly(pod, {"apiVersion", "kind", "metadata", "spec", "status"});
  if (pod.contains("metadata"))
    KeepOnly(pod["metadata"], {"name", "namespace", "uid", "resourceVersion", "labels",
                               "annotations", "ownerReferences", "deletionTimestamp"});
  if (pod.contains("spec")) {
    KeepOnly(pod["spec"], {"nodeName", "containers"});
    KeepEach(pod["spec"], "containers", {"name", "resources"});
  }
  if (pod.contains("status")) {
    json& status = pod["status"];
    KeepOnly(status,
             {"phase", "reason", "message", "startTime", "containerStatuses", "conditions"});
    KeepEach(status, "containerStatuses", {"name", "state"});
    // Only the scheduler's verdict (Unschedulable is read from it).
    KeepItems(status, "conditions",
              [](const json& c) {
                return c.value("type", "") == "PodScheduled" && c.value("status", "") == "False";
              },
              {"type", "status", "reason", "message", "lastTransitionTime"});
  }
}

}  // namespace iarnet
