// The provider service registered under a full service name ("resource.provider.Service"
// or "provider.Service"), one method per row of the RPC table. The contract names both
// services `Service`, which gRPC's C++ generator cannot compile, so the methods are
// registered by path with raw-bytes handlers that parse the table's message types.
#pragma once

#include <google/protobuf/descriptor.h>
#include <grpcpp/impl/codegen/service_type.h>

#include <deque>
#include <string>

#include "grpc-gateway/metrics.h"
#include "grpc-gateway/provider_service.h"

namespace iarnet {

// The contract's descriptor of a service ("resource.provider.Service" or
// "provider.Service"), or nullptr.
const google::protobuf::ServiceDescriptor* ServiceDescriptorFor(const std::string& name);

// Declares the gRPC metrics (grpc_server_handled_total, grpc_server_handling_seconds).
void DefineGrpcMetrics(Metrics& metrics);

class ProviderGrpcService : public grpc::Service {
 public:
  ProviderGrpcService(std::string service_name, ProviderService& service, Metrics& metrics);

 private:
  std::deque<std::string> paths_;  // RpcServiceMethod keeps a pointer to each path
};

}  // namespace iarnet
