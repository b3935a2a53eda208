// A client of the provider service under either name, for the CLI and the tests: calls
// a method by its path with the contract's messages (or raw bytes).
#pragma once

#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/client_unary_call.h>
#include <grpcpp/impl/codegen/proto_utils.h>
#include <grpcpp/impl/rpc_method.h>

#include <chrono>
#include <memory>
#include <string>

namespace iarnet {

class ProviderClient {
 public:
  // `service`: "resource.provider.Service" (current) or "provider.Service" (older).
  ProviderClient(std::shared_ptr<grpc::Channel> channel, std::string service)
      : channel_(std::move(channel)), service_(std::move(service)) {}

  template <class Request, class Response>
  grpc::Status Call(const std::string& method, const Request& request, Response* response,
                    std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    std::string path = "/" + service_ + "/" + method;
    grpc::internal::RpcMethod rpc(path.c_str(), grpc::internal::RpcMethod::NORMAL_RPC);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + timeout);
    return grpc::internal::BlockingUnaryCall(channel_.get(), rpc, &context, request, response);
  }

  // Sends `bytes` as the request as they are (to test what malformed input does).
  grpc::Status CallRaw(const std::string& method, const std::string& bytes, std::string* reply,
                       std::chrono::milliseconds timeout = std::chrono::seconds(30));

  const std::string& service() const { return service_; }

 private:
  std::shared_ptr<grpc::Channel> channel_;
  std::string service_;
};

}  // namespace iarnet
