#include "controller/pod_cache_form.h"

#include <initializer_list>

namespace iarnet {
namespace {

using json = nlohmann::json;

// Keeps only `keys` of an object (anything else: left alone).
void Keep(json& object, std::initializer_list<const char*> keys) {
  if (!object.is_object()) return;
  json kept = json::object();
  for (const char* k : keys) {
    auto it = object.find(k);
    if (it != object.end()) kept[k] = std::move(*it);
  }
  object = std::move(kept);
}

void KeepEach(json& parent, const char* array, std::initializer_list<const char*> keys) {
  auto it = parent.find(array);
  if (it == parent.end() || !it->is_array()) return;
  for (auto& item : *it) Keep(item, keys);
}

}  // namespace

void KeepWhatThePodCacheNeeds(json& pod) {
  if (!pod.is_object()) return;
  Keep(pod, {"apiVersion", "kind", "metadata", "spec", "status"});
  if (pod.contains("metadata"))
    Keep(pod["metadata"], {"name", "namespace", "uid", "resourceVersion", "labels", "annotations",
                           "ownerReferences", "deletionTimestamp"});
  if (pod.contains("spec")) {
    Keep(pod["spec"], {"nodeName", "containers"});
    KeepEach(pod["spec"], "containers", {"name", "resources"});
  }
  if (pod.contains("status")) {
    Keep(pod["status"], {"phase", "reason", "message", "startTime", "containerStatuses"});
    KeepEach(pod["status"], "containerStatuses", {"name", "state"});
  }
}

}  // namespace iarnet
