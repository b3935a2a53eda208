#include "tests/support/control_plane.h"

#include <catch2/catch.hpp>
#include <csignal>

#include "tests/support/support.h"
#include "tests/support/workload_census.h"

namespace testing {

using kube::json;

Provider::Provider(const std::string& namespace_, int64_t cpu, const std::string& extra,
                   const std::string& server_extra, const std::string& resource)
    : ns(namespace_) {
  std::string yaml =
      "server: {port: " + std::to_string(port) + ", http_port: " + std::to_string(http_port) +
      (server_extra.empty() ? "" : ", " + server_extra) + "}\n" + "kubernetes: {namespace: " + ns +
      "}\n" + "resource: {" +
      (resource.empty() ? "cpu: " + std::to_string(cpu) + ", memory: 4Gi, gpu: 2" : resource) +
      "}\n" + "resource_tags: [cpu, memory]\n" + extra;
  process = std::make_unique<ProviderProcess>(yaml, "/tmp/iarnet-" + ns + ".log");
  auto channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
  current = std::make_unique<iarnet::ProviderClient>(channel, "resource.provider.Service");
  older = std::make_unique<iarnet::ProviderClient>(channel, "provider.Service");
  Start();
}

void Provider::Start() {
  process->Start();
  INFO(process->Log());
  REQUIRE(process->WaitForLog("gRPC on"));
}

void Provider::Restart() {
  process->Kill(SIGKILL);
  Start();
}

pb::DeployRequest DeployOf(const std::string& id, int64_t cpu, const std::string& provider_id) {
  pb::DeployRequest r;
  r.set_instance_id(id);
  r.set_language(common::LANG_PYTHON);
  r.set_provider_id(provider_id);
  r.mutable_resource_request()->set_cpu(cpu);
  r.mutable_resource_request()->set_memory(64 << 20);
  auto& env = *r.mutable_env_vars();
  env["COMPONENT_ID"] = id;
  env["ZMQ_ADDR"] = "tcp://host.internal:5555";
  env["STORE_ADDR"] = "host.internal:6000";
  env["LOGGER_ADDR"] = "host.internal:6001";
  return r;
}

std::string Deploy(iarnet::ProviderClient& c, const pb::DeployRequest& r) {
  pb::DeployResponse resp;
  // As the control plane calls it: with no short deadline (PROTOCOL.md). A Deploy waits
  // for its container to run, which on a loaded machine can take longer than 30 s.
  // Called from many threads at once: no Catch assertion or INFO here (Catch's message
  // stack is not thread-safe); a failed call is an error string that says so.
  grpc::Status s = c.Call("Deploy", r, &resp, std::chrono::minutes(3));
  if (!s.ok()) {
    return "the Deploy call of " + r.instance_id() + " failed: gRPC status " +
           std::to_string(s.error_code()) + ": " + s.error_message();
  }
  return resp.error();
}

std::string Undeploy(iarnet::ProviderClient& c, const std::string& id, const std::string& pid) {
  pb::UndeployRequest r;
  r.set_instance_id(id);
  r.set_provider_id(pid);
  pb::UndeployResponse resp;
  REQUIRE(c.Call("Undeploy", r, &resp).ok());
  return resp.error();
}

pb::ConnectResponse Connect(iarnet::ProviderClient& c, const std::string& id) {
  pb::ConnectRequest r;
  r.set_provider_id(id);
  pb::ConnectResponse resp;
  REQUIRE(c.Call("Connect", r, &resp).ok());
  return resp;
}

grpc::Status HealthCheck(iarnet::ProviderClient& c, const std::string& id,
                         pb::HealthCheckResponse* out) {
  pb::HealthCheckRequest r;
  r.set_provider_id(id);
  pb::HealthCheckResponse resp;
  grpc::Status s = c.Call("HealthCheck", r, &resp, std::chrono::seconds(5));
  if (out) *out = resp;
  return s;
}

resource::Capacity Capacity(iarnet::ProviderClient& c, const std::string& id) {
  pb::GetCapacityRequest r;
  r.set_provider_id(id);
  pb::GetCapacityResponse resp;
  REQUIRE(c.Call("GetCapacity", r, &resp).ok());
  return resp.capacity();
}

size_t WorkloadCount(kube::Client& c, const std::string& ns) {
  return c.ListAll(kWorkloads, ns)["items"].size();
}

json PodOf(kube::Client& c, const std::string& ns, const std::string& instance_label) {
  kube::ListOptions o;
  o.label_selector = "iarnet.managed=true,iarnet.instance_id=" + instance_label;
  json pods = c.ListAll(kube::resources::kPods, ns, o)["items"];
  REQUIRE(pods.size() == 1);
  return pods[0];
}

void RequireLedgerExact(kube::Client& c, const std::string& ns) {
  CHECK(Eventually([&] { return LedgerExact(Count(c, ns)); }));
}

}  // namespace testing
