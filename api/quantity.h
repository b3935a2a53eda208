// Kubernetes resource quantities ("500m", "1.5Gi", "8G", "2e3") as exact integers.
//
// Pure functions, no I/O. Parsing follows the grammar of k8s.io/apimachinery's
// resource.Quantity: an optional sign, a decimal number, and one suffix, either binary
// (Ki Mi Gi Ti Pi Ei), decimal (n u m k M G T P E) or an exponent (e3, E-2). Results are
// rounded up, as Quantity.Value() and MilliValue() do, and overflow is an error, never a
// wrapped number.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace iarnet {

// A parse result: the value, or a message saying what is wrong with the input.
struct QuantityError {
  std::string message;
};
using QuantityResult = std::variant<int64_t, QuantityError>;

// The quantity in base units (bytes for memory, devices for GPUs), rounded up.
QuantityResult ParseQuantity(std::string_view text);

// The quantity in thousandths of a base unit (millicores for cpu), rounded up.
QuantityResult ParseMilliQuantity(std::string_view text);

// Canonical strings, as kubectl shows them: "1500m" or "2"; "8Gi", "1536Mi" or "1000".
std::string FormatMillicores(int64_t millicores);
std::string FormatBytes(int64_t bytes);

}  // namespace iarnet
