// The provider protocol's RPCs as one table: name, whether the older `provider.Service`
// has it, and how to call the handler with a request message of the right type. The
// gRPC services (both names) and the REST gateway are built from this table, so the
// three front doors cannot drift apart.
#pragma once

#include <google/protobuf/message.h>
#include <grpcpp/support/status.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "grpc-gateway/provider_service.h"

namespace iarnet {

inline constexpr const char* kCurrentService = "resource.provider.Service";
inline constexpr const char* kOlderService = "provider.Service";

using Message = google::protobuf::Message;

struct Rpc {
  std::string name;  // "Deploy"
  bool in_older_service = true;
  std::function<std::unique_ptr<Message>()> new_request;
  std::function<std::unique_ptr<Message>()> new_response;
  // Calls the handler; `request` and `response` have the types new_* make.
  std::function<grpc::Status(ProviderService&, const Message& request, Message* response,
                             const CallContext& context)>
      call;
};

const std::vector<Rpc>& Rpcs();
const Rpc* FindRpc(const std::string& name);

}  // namespace iarnet
