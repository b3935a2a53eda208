// The names of gRPC status codes, in one table: the canonical spelling (google.rpc.Code,
// grpc-gateway's JSON errors: "INVALID_ARGUMENT") and the one Prometheus users know from
// go-grpc-prometheus's grpc_code label ("InvalidArgument", "Canceled").
#pragma once

namespace iarnet {

const char* CanonicalCodeName(int code);  // "UNKNOWN" for codes outside 0..16
const char* MetricCodeName(int code);     // "Unknown" for codes outside 0..16

}  // namespace iarnet
