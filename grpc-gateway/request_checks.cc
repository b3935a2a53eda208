#include "grpc-gateway/request_checks.h"

#include "kube/text.h"

namespace iarnet {

std::optional<std::string> IdProblem(const std::string& field, const std::string& id) {
  if (id.empty()) return field + " is required";
  if (id.size() > kMaxIdLength) {
    return field + " is " + std::to_string(id.size()) + " bytes long; at most " +
           std::to_string(kMaxIdLength) + " are allowed";
  }
  if (!kube::IsPrintableUtf8(id)) {
    return field + " " + kube::Quoted(id) + " must be printable UTF-8 text (no control characters)";
  }
  return std::nullopt;
}

}  // namespace iarnet
