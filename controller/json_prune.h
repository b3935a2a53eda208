// Cutting an object down to the fields a cache's readers use (the informers'
// transforms: pod_cache_form.h, node_fit.h). Pure; anything that is not the shape
// expected is left alone rather than crashed on.
#pragma once

#include <functional>
#include <initializer_list>
#include <nlohmann/json.hpp>

namespace iarnet {

// Keeps only `keys` of an object.
void KeepOnly(nlohmann::json& object, std::initializer_list<const char*> keys);
// KeepOnly on each item of the array parent[array].
void KeepEach(nlohmann::json& parent, const char* array, std::initializer_list<const char*> keys);
// Drops the items of parent[array] that `wanted` refuses, KeepOnly on the rest; drops the
// array itself when nothing is left.
void KeepItems(nlohmann::json& parent, const char* array,
               const std::function<bool(const nlohmann::json& item)>& wanted,
               std::initializer_list<const char*> keys);

}  // namespace iarnet
