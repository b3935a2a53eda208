#include "grpc-gateway/grpc_codes.h"

namespace iarnet {
namespace {

struct CodeNames {
  const char* canonical;
  const char* metric;
};

constexpr CodeNames kNames[] = {
    {"OK", "OK"},
    {"CANCELLED", "Canceled"},
    {"UNKNOWN", "Unknown"},
    {"INVALID_ARGUMENT", "InvalidArgument"},
    {"DEADLINE_EXCEEDED", "DeadlineExceeded"},
    {"NOT_FOUND", "NotFound"},
    {"ALREADY_EXISTS", "AlreadyExists"},
    {"PERMISSION_DENIED", "PermissionDenied"},
    {"RESOURCE_EXHAUSTED", "ResourceExhausted"},
    {"FAILED_PRECONDITION", "FailedPrecondition"},
    {"ABORTED", "Aborted"},
    {"OUT_OF_RANGE", "OutOfRange"},
    {"UNIMPLEMENTED", "Unimplemented"},
    {"INTERNAL", "Internal"},
    {"UNAVAILABLE", "Unavailable"},
    {"DATA_LOSS", "DataLoss"},
    {"UNAUTHENTICATED", "Unauthenticated"},
};

const CodeNames& NamesOf(int code) {
  return code >= 0 && code < int(sizeof kNames / sizeof kNames[0]) ? kNames[code] : kNames[2];
}

}  // namespace

const char* CanonicalCodeName(int code) { return NamesOf(code).canonical; }
const char* MetricCodeName(int code) { return NamesOf(code).metric; }

}  // namespace iarnet
