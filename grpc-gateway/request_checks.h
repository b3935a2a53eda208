// Checks shared by every request that carries the control plane's ids. Pure.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace iarnet {

// Ids from the control plane (instance and provider ids) are free text, but bounded and
// printable: at most kMaxIdLength bytes of UTF-8 with no control characters.
inline constexpr size_t kMaxIdLength = 253;
// What is wrong with the id in `field` (its message names the field and quotes a bounded,
// escaped prefix of the id), or nullopt when it is acceptable.
std::optional<std::string> IdProblem(const std::string& field, const std::string& id);

}  // namespace iarnet
