// The test playing the iarnet control plane: a provider process in a namespace of the
// test's own with clients of both service names, and the RPCs as the control plane
// calls them (failing the test on a transport error).
#pragma once

#include <memory>
#include <string>

#include "grpc-gateway/provider_client.h"
#include "kube/client.h"
#include "resource/provider/provider.pb.h"
#include "tests/support/provider_process.h"

namespace testing {

namespace pb = resource::provider;

// A provider process serving gRPC and REST on free ports; `extra` is appended to its
// config.yaml (e.g. "provider: {deploy_timeout: 3s}\n"), `server_extra` to its server
// section (e.g. "http_read_timeout: 1s").
struct Provider {
  int port = FreePort();
  int http_port = FreePort();
  std::string ns;
  std::unique_ptr<ProviderProcess> process;
  std::unique_ptr<iarnet::ProviderClient> current, older;

  // `resource`: the resource section's body instead of "cpu: <cpu>, memory: 4Gi, gpu: 2".
  Provider(const std::string& namespace_, int64_t cpu, const std::string& extra = "",
           const std::string& server_extra = "", const std::string& resource = "");
  void Start();    // and wait until gRPC serves
  void Restart();  // SIGKILL, then Start
  std::string RestBase() const { return "http://127.0.0.1:" + std::to_string(http_port); }
};

// A Deploy as the control plane sends it: python, `cpu` millicores, 64 MiB, the usual env.
pb::DeployRequest DeployOf(const std::string& id, int64_t cpu, const std::string& provider_id = "");

// Each returns the response's error string ("" on success). Deploy waits up to 3 minutes
// (the control plane gives it no short deadline), may be called from many threads, and
// returns a failed call as an error string too.
std::string Deploy(iarnet::ProviderClient& c, const pb::DeployRequest& r);
std::string Undeploy(iarnet::ProviderClient& c, const std::string& id, const std::string& pid = "");
pb::ConnectResponse Connect(iarnet::ProviderClient& c, const std::string& id);
grpc::Status HealthCheck(iarnet::ProviderClient& c, const std::string& id,
                         pb::HealthCheckResponse* out = nullptr);
resource::Capacity Capacity(iarnet::ProviderClient& c, const std::string& id = "");

size_t WorkloadCount(kube::Client& c, const std::string& ns);
// The one Pod of the instance (by its label-safe id).
kube::json PodOf(kube::Client& c, const std::string& ns, const std::string& instance_label);
// Eventually: the ledger equals the sum of the namespace's admission records.
void RequireLedgerExact(kube::Client& c, const std::string& ns);

}  // namespace testing
