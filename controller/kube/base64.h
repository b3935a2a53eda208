// Standard base64 (RFC 4648, with padding), for kubeconfig *-data fields.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace kube {

std::string Base64Encode(std::string_view bytes);
// nullopt when the text is not valid base64. Whitespace is ignored, as in kubeconfigs.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace kube
