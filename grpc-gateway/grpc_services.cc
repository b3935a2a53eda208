#include "grpc-gateway/grpc_services.h"

#include <grpcpp/impl/rpc_service_method.h>
#include <grpcpp/support/byte_buffer.h>
#include <grpcpp/support/method_handler.h>

#include <chrono>

#include "grpc-gateway/grpc_codes.h"
#include "grpc-gateway/peer_address.h"
#include "grpc-gateway/rpc_table.h"
#include "provider/provider.pb.h"

namespace iarnet {
namespace {

std::string ToBytes(const grpc::ByteBuffer& buffer) {
  std::vector<grpc::Slice> slices;
  std::string out;
  if (!buffer.Dump(&slices).ok()) return out;
  for (const auto& s : slices) out.append(reinterpret_cast<const char*>(s.begin()), s.size());
  return out;
}

}  // namespace

// provider/provider.proto defines no messages, so nothing else would pull its
// descriptor into the link; without it neither this file nor reflection could find
// provider.Service. A pointer to it, used below, keeps it linked.
const void* const volatile kOlderServiceFile = &descriptor_table_provider_2fprovider_2eproto;

const google::protobuf::ServiceDescriptor* ServiceDescriptorFor(const std::string& name) {
  if (!kOlderServiceFile) return nullptr;
  return google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
}

void DefineGrpcMetrics(Metrics& m) {
  m.Define("grpc_server_handled_total", Metrics::Type::kCounter,
           "RPCs completed on the server, by service, method and status code.");
  m.Define("grpc_server_handling_seconds", Metrics::Type::kHistogram,
           "Time to handle an RPC, by service and method.", Metrics::LatencyBuckets());
}

ProviderGrpcService::ProviderGrpcService(std::string service_name, ProviderService& service,
                                         Metrics& metrics) {
  using Handler =
      grpc::internal::RpcMethodHandler<ProviderGrpcService, grpc::ByteBuffer, grpc::ByteBuffer>;
  bool older = service_name == kOlderService;
  const auto* descriptor = ServiceDescriptorFor(service_name);
  for (const Rpc& rpc : Rpcs()) {
    if (older && !rpc.in_older_service) continue;
    // The table and the contract must agree on names and message types.
    const auto* method = descriptor ? descriptor->FindMethodByName(rpc.name) : nullptr;
    if (!method || method->input_type() != rpc.new_request()->GetDescriptor() ||
        method->output_type() != rpc.new_response()->GetDescriptor()) {
      throw std::logic_error("the RPC table's " + rpc.name + " does not match " + service_name);
    }
    paths_.push_back("/" + service_name + "/" + rpc.name);
    auto handle = [&rpc, &service, &metrics, service_name](
                      ProviderGrpcService*, grpc::ServerContext* context,
                      const grpc::ByteBuffer* in, grpc::ByteBuffer* out) {
      auto started = std::chrono::steady_clock::now();
      auto request = rpc.new_request();
      auto response = rpc.new_response();
      grpc::Status status;
      if (!request->ParseFromString(ToBytes(*in))) {
        status = {grpc::StatusCode::INVALID_ARGUMENT,
                  "the request is not a valid " + request->GetTypeName() + " message"};
      } else {
        try {
          status = rpc.call(service, *request, response.get(), {PeerIp(context->peer())});
        } catch (const std::exception& e) {
          status = {grpc::StatusCode::INTERNAL, e.what()};
        }
      }
      if (status.ok()) {
        std::string bytes = response->SerializeAsString();
        grpc::Slice slice(bytes);
        *out = grpc::ByteBuffer(&slice, 1);
      }
      std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
      Labels method = {{"grpc_service", service_name}, {"grpc_method", rpc.name}};
      metrics.Observe("grpc_server_handling_seconds", method, took.count());
      method.push_back({"grpc_code", MetricCodeName(status.error_code())});
      metrics.Add("grpc_server_handled_total", method);
      return status;
    };
    AddMethod(new grpc::internal::RpcServiceMethod(
        paths_.back().c_str(), grpc::internal::RpcMethod::NORMAL_RPC, new Handler(handle, this)));
  }
}

}  // namespace iarnet
