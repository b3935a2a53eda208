#include "grpc-gateway/rpc_table.h"

namespace iarnet {
namespace {

namespace pb = resource::provider;

const grpc::Status kNotServing(grpc::StatusCode::UNAVAILABLE,
                               "not ready: the provider has not synced its view of the cluster "
                               "(the Kubernetes API may be unreachable); retry later");

template <class Req, class Resp, class... Context>
Rpc Make(std::string name, bool older,
         grpc::Status (ProviderService::*handler)(const Req&, Resp*, const Context&...)) {
  Rpc r;
  r.name = std::move(name);
  r.in_older_service = older;
  r.new_request = [] { return std::make_unique<Req>(); };
  r.new_response = [] { return std::make_unique<Resp>(); };
  // A handler takes the CallContext when it needs it (Connect), or not.
  r.call = [handler](ProviderService& s, const Message& req, Message* resp,
                     const CallContext& context) {
    if (!s.Serving()) return kNotServing;
    return (s.*handler)(static_cast<const Req&>(req), static_cast<Resp*>(resp),
                        static_cast<const Context&>(context)...);
  };
  return r;
}

}  // namespace

const std::vector<Rpc>& Rpcs() {
  static const std::vector<Rpc> rpcs = {
      Make("Connect", true, &ProviderService::Connect),
      Make("Disconnect", true, &ProviderService::Disconnect),
      Make("GetCapacity", true, &ProviderService::GetCapacity),
      Make("GetAvailable", true, &ProviderService::GetAvailable),
      Make("Deploy", true, &ProviderService::Deploy),
      Make("Undeploy", false, &ProviderService::Undeploy),  // the older service lacks it
      Make("HealthCheck", true, &ProviderService::HealthCheck),
      Make("GetRealTimeUsage", true, &ProviderService::GetRealTimeUsage),
  };
  return rpcs;
}

const Rpc* FindRpc(const std::string& name) {
  for (const auto& r : Rpcs()) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

}  // namespace iarnet
