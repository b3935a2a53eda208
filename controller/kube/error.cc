#include "kube/error.h"

#include <nlohmann/json.hpp>

namespace kube {

bool Error::IsTransient() const {
  switch (kind_) {
    case ErrorKind::kConnect:
    case ErrorKind::kTimeout:
    case ErrorKind::kProtocol:
      return true;
    case ErrorKind::kApi:
      return code_ == 429 || code_ >= 500;
    default:
      return false;
  }
}

namespace {
std::string DefaultReason(int status) {
  switch (status) {
    case 400:
      return "BadRequest";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "NotFound";
    case 405:
      return "MethodNotAllowed";
    case 409:
      return "Conflict";
    case 410:
      return "Expired";
    case 415:
      return "UnsupportedMediaType";
    case 422:
      return "Invalid";
    case 429:
      return "TooManyRequests";
    case 500:
      return "InternalError";
    case 503:
      return "ServiceUnavailable";
    case 504:
      return "Timeout";
    default:
      return "Unknown";
  }
}
}  // namespace

Error ApiErrorFromResponse(int status, const std::string& body, const std::string& what) {
  std::string reason = DefaultReason(status);
  std::string message;
  auto parsed = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_object() && parsed.value("kind", "") == "Status") {
    if (parsed.contains("reason") && parsed["reason"].is_string() &&
        !parsed["reason"].get<std::string>().empty()) {
      reason = parsed["reason"].get<std::string>();
    }
    if (parsed.contains("message") && parsed["message"].is_string()) {
      message = parsed["message"].get<std::string>();
    }
  }
  if (message.empty()) message = body.substr(0, 512);
  return Error(
      ErrorKind::kApi,
      what + ": " + std::to_string(status) + " " + reason + (message.empty() ? "" : ": " + message),
      status, reason);
}

const char* ToString(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kApi:
      return "api";
    case ErrorKind::kTls:
      return "tls";
    case ErrorKind::kConnect:
      return "connect";
    case ErrorKind::kTimeout:
      return "timeout";
    case ErrorKind::kProtocol:
      return "protocol";
    case ErrorKind::kConfig:
      return "config";
    case ErrorKind::kCancelled:
      return "cancelled";
  }
  return "unknown";
}

}  // namespace kube
