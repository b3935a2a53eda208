// The one error type of the Kubernetes client. Callers tell failures apart by kind and,
// for API errors, by the Status reason the API server sent (NotFound, Conflict, ...).
#pragma once

#include <stdexcept>
#include <string>

namespace kube {

enum class ErrorKind {
  kApi,        // the API server answered with a non-2xx Status
  kTls,        // TLS handshake failed: unknown CA, rejected client certificate, bad name
  kConnect,    // could not connect (refused, unreachable, DNS)
  kTimeout,    // no answer within the deadline
  kProtocol,   // the connection broke, or the answer was not what HTTP/JSON promised
  kConfig,     // kubeconfig / in-cluster configuration is missing or malformed
  kCancelled,  // the client is shutting down
};

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, std::string message, int code = 0, std::string reason = "")
      : std::runtime_error(std::move(message)),
        kind_(kind),
        code_(code),
        reason_(std::move(reason)) {}

  ErrorKind kind() const { return kind_; }
  int code() const { return code_; }  // HTTP status for kApi, else 0
  // The Status reason (e.g. "NotFound", "AlreadyExists", "Conflict", "Invalid",
  // "Forbidden", "Unauthorized", "Expired" for 410 Gone), for kApi only.
  const std::string& reason() const { return reason_; }

  bool IsNotFound() const { return kind_ == ErrorKind::kApi && code_ == 404; }
  bool IsAlreadyExists() const { return kind_ == ErrorKind::kApi && reason_ == "AlreadyExists"; }
  bool IsConflict() const { return kind_ == ErrorKind::kApi && code_ == 409 && !IsAlreadyExists(); }
  bool IsGone() const { return kind_ == ErrorKind::kApi && code_ == 410; }
  bool IsForbidden() const { return kind_ == ErrorKind::kApi && code_ == 403; }
  bool IsUnauthorized() const { return kind_ == ErrorKind::kApi && code_ == 401; }
  bool IsInvalid() const { return kind_ == ErrorKind::kApi && code_ == 422; }
  // Worth retrying as is: the server or the network may be better in a moment.
  bool IsTransient() const;

 private:
  ErrorKind kind_;
  int code_;
  std::string reason_;
};

// Builds the error for a non-2xx answer: reason and message from a metav1.Status body
// when there is one, else from the HTTP status line.
Error ApiErrorFromResponse(int http_status, const std::string& body, const std::string& what);

const char* ToString(ErrorKind kind);

}  // namespace kube
