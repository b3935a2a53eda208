// Starting while the API server cannot be reached (kubernetes.allow_connection_failure):
// without it the process exits; with it, it listens as not ready, retries, and serves once
// the API server is up.
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <csignal>

#include "kube/error.h"
#include "tests/support/control_plane.h"
#include "tests/support/raw_http.h"
#include "tests/support/support.h"

using namespace testing;
namespace pb = resource::provider;

namespace {

std::string ConfigYaml(int port, int http_port, const std::string& ns, bool allow) {
  return "server: {port: " + std::to_string(port) + ", http_port: " + std::to_string(http_port) +
         "}\nkubernetes: {namespace: " + ns +
         ", allow_connection_failure: " + (allow ? "true" : "false") +
         "}\nresource: {cpu: 1000, memory: 1Gi, gpu: 0}\n";
}

// The standard gRPC health service's answer for the whole server: SERVING is the
// message {status: 1}, NOT_SERVING {status: 2}.
std::string GrpcHealth(iarnet::ProviderClient& health) {
  std::string reply;
  grpc::Status s = health.CallRaw("Check", "", &reply, std::chrono::seconds(5));
  if (!s.ok()) return "error " + s.error_message();
  if (reply == std::string("\x08\x01", 2)) return "SERVING";
  if (reply == std::string("\x08\x02", 2)) return "NOT_SERVING";
  return "unexpected reply";
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("grpc: allow_connection_failure starts unready and serves once the API server is up") {
  auto c = AdminClient();
  TestNamespace ns(*c, "grpc");
  ProviderProcess strict(ConfigYaml(FreePort(), FreePort(), ns, false),
                         "/tmp/iarnet-" + ns.name() + "-strict.log");
  int port = FreePort(), http_port = FreePort();
  ProviderProcess patient(ConfigYaml(port, http_port, ns, true),
                          "/tmp/iarnet-" + ns.name() + "-patient.log");
  auto channel =
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
  iarnet::ProviderClient current(channel, "resource.provider.Service");
  iarnet::ProviderClient health(channel, "grpc.health.v1.Health");

  // Pods need the namespace's default ServiceAccount, which the controller manager makes
  // soon after the namespace: it must not fall into the outage.
  REQUIRE(Eventually([&] {
    try {
      c->Get(kube::resources::kServiceAccounts, ns, "default");
      return true;
    } catch (const kube::Error&) {
      return false;
    }
  }));
  StopComponent("kube-apiserver");
  struct UpAgain {  // whatever fails below, the next tests get their API server back
    bool up = false;
    void Start() {
      if (!up) StartComponent("kube-apiserver"), up = true;
    }
    ~UpAgain() {
      try {
        Start();
      } catch (const std::exception& e) {
        WARN(e.what());
      }
    }
  } api_server;

  // Without the key: a clear error and exit status 1.
  strict.Start();
  auto status = strict.SignalAndWait(0, std::chrono::seconds(60));  // 0: only wait
  INFO(strict.Log());
  REQUIRE(status.has_value());
  CHECK(WIFEXITED(*status));
  CHECK(WEXITSTATUS(*status) == 1);
  CHECK(strict.Log().find("error: ") != std::string::npos);
  CHECK(strict.Log().find("Connection refused") != std::string::npos);

  // With it: listening, alive, not ready, and retrying.
  patient.Start();
  INFO(patient.Log());
  REQUIRE(Eventually([&] { return Count(patient.Log(), "cannot reach the Kubernetes API") >= 2; },
                     std::chrono::seconds(60)));
  CHECK(patient.running());
  CHECK(HttpCall(http_port, "GET", "/healthz").status == 200);
  CHECK(HttpCall(http_port, "GET", "/readyz").status == 503);
  CHECK(HttpCall(http_port, "GET", "/v1/usage").status == 503);
  CHECK(GrpcHealth(health) == "NOT_SERVING");
  pb::GetCapacityRequest capacity_request;
  pb::GetCapacityResponse capacity;
  grpc::Status refused = current.Call("GetCapacity", capacity_request, &capacity);
  CHECK(refused.error_code() == grpc::StatusCode::UNAVAILABLE);
  CHECK(refused.error_message().find("not ready") != std::string::npos);
  pb::ConnectRequest connect_request;
  connect_request.set_provider_id("provider.a");
  pb::ConnectResponse connected;
  CHECK(current.Call("Connect", connect_request, &connected).error_code() ==
        grpc::StatusCode::UNAVAILABLE);

  // The API server comes up: ready, and the RPCs are served.
  api_server.Start();
  CHECK(Eventually([&] { return HttpCall(http_port, "GET", "/readyz").status == 200; },
                   std::chrono::seconds(120)));
  CHECK(GrpcHealth(health) == "SERVING");
  CHECK(Connect(current, "provider.a").success());
  pb::HealthCheckResponse checked;
  REQUIRE(HealthCheck(current, "provider.a", &checked).ok());
  CHECK(checked.capacity().total().cpu() == 1000);
  CHECK(Deploy(current, DeployOf("comp.late", 100, "provider.a")) == "");
  CHECK(Undeploy(current, "comp.late", "provider.a") == "");
  auto stopped = patient.SignalAndWait(SIGTERM, std::chrono::seconds(30));
  REQUIRE(stopped.has_value());
  CHECK(WIFEXITED(*stopped));
  CHECK(WEXITSTATUS(*stopped) == 0);
}
