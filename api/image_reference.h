// Container image references, checked by the distribution reference grammar (the one
// containerd and the kubelet parse with), so that a reference the kubelet would refuse
// (InvalidImageName) is refused where it enters: at Deploy, in the config, and, through
// kImageReferencePattern, by the CRD for kubectl users. Pure.
//
//   reference  := name [ ":" tag ] [ "@" digest ]
//   name       := [ domain "/" ] path-component { "/" path-component }   (at most 255)
//   domain     := host [ ":" port ];  host := dns-label { "." dns-label } | "[" ipv6 "]"
//   path-component := [a-z0-9]+ { ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ }
//   tag        := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,127}
//   digest     := algorithm ":" [0-9a-fA-F]{32,}
//   algorithm  := [A-Za-z][A-Za-z0-9]* { [-_+.] [A-Za-z][A-Za-z0-9]* }
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace iarnet {

// Why `reference` is not a valid image reference, or nullopt when it is one.
std::optional<std::string> ImageReferenceProblem(std::string_view reference);

// The same grammar as one regular expression (RE2 and ECMAScript alike), for the CRD's
// `pattern` on spec.image; a unit test keeps the two in step.
inline constexpr const char* kImageReferencePattern =
    R"(^((?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$)";

}  // namespace iarnet
