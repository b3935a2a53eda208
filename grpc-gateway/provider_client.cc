#include "grpc-gateway/provider_client.h"

#include <grpcpp/support/byte_buffer.h>

namespace iarnet {

grpc::Status ProviderClient::CallRaw(const std::string& method, const std::string& bytes,
                                     std::string* reply, std::chrono::milliseconds timeout) {
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1), response;
  grpc::Status s = Call(method, request, &response, timeout);
  std::vector<grpc::Slice> slices;
  reply->clear();
  if (s.ok() && response.Dump(&slices).ok()) {
    for (const auto& part : slices)
      reply->append(reinterpret_cast<const char*>(part.begin()), part.size());
  }
  return s;
}

}  // namespace iarnet
