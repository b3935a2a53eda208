#include "controller/json_prune.h"

namespace iarnet {

using json = nlohmann::json;

void KeepOnly(json& object, std::initializer_list<const char*> keys) {
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
  for (auto& item : *it) KeepOnly(item, keys);
}

void KeepItems(json& parent, const char* array, const std::function<bool(const json&)>& wanted,
               std::initializer_list<const char*> keys) {
  auto it = parent.find(array);
  if (it == parent.end() || !it->is_array()) return;
  json kept = json::array();
  for (auto& item : *it) {
    if (!item.is_object() || !wanted(item)) continue;
    KeepOnly(item, keys);
    kept.push_back(std::move(item));
  }
  if (kept.empty()) {
    parent.erase(it);
  } else {
    *it = std::move(kept);
  }
}

}  // namespace iarnet
