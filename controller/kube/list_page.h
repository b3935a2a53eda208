// Reading one page of a List answer without holding the page as a DOM: each element of
// "items" is handed out as soon as it is complete, so the memory in use is one object
// at a time, not the page (a page of 500 Pods is ~1.5 MB of JSON and ~10x that as a
// DOM, and the holes such a DOM leaves in the heap outlive it).
#pragma once

#include <functional>
#include <string_view>

#include "kube/resource.h"

namespace kube {

// Calls on_item with each element of the list's "items" in order and returns the rest
// of the answer (kind, apiVersion, metadata; "items" empty). Throws Error(kProtocol)
// when the body is not a JSON object or an item is not an object. With
// `skip_managed_fields`, the items' metadata.managedFields (often a third of a Pod) are
// passed over without being built.
json ParseListPage(std::string_view body, const std::function<void(json item)>& on_item,
                   bool skip_managed_fields = false);

}  // namespace kube
