// End to end over real gRPC: the provider process against the local cluster, with this
// test playing the iarnet control plane (current and older), plus the REST gateway and
// the CLI. Every test ends with the ledger equal to the sum of the admission records.
#include <sys/wait.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <csignal>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "api/names.h"
#include "controller/iarnet_resources.h"
#include "kube/error.h"
#include "kube/time_format.h"
#include "tests/support/control_plane.h"
#include "tests/support/support.h"
#include "tests/support/workload_census.h"

using namespace testing;
using kube::json;
namespace pb = resource::provider;

TEST_CASE("grpc: Connect then HealthCheck then Deploy and Undeploy as the control plane does") {
  auto c = AdminClient();
  TestNamespace ns(*c, "grpc");
  Provider p(ns, 1000, "provider: {host_aliases: [{ip: 10.9.8.7, hostnames: [host.internal]}]}\n");

  auto connected = Connect(*p.current, "provider.a");
  CHECK(connected.success());
  CHECK(connected.error().empty());
  CHECK(connected.provider_type().name() == "kubernetes");
  REQUIRE(connected.supported_languages_size() == 1);
  CHECK(connected.supported_languages(0) == common::LANG_PYTHON);
  pb::HealthCheckResponse health;
  REQUIRE(HealthCheck(*p.current, "provider.a", &health).ok());
  CHECK(health.capacity().total().cpu() == 1000);
  CHECK(health.capacity().available().cpu() == 1000);
  CHECK(health.resource_tags().cpu());
  CHECK_FALSE(health.resource_tags().gpu());
  CHECK(health.supported_languages(0) == common::LANG_PYTHON);

  auto request = DeployOf("comp.e2e", 250, "provider.a");
  CHECK(Deploy(*p.current, request) == "");
  json pod = PodOf(*c, ns, "comp.e2e");
  CHECK(pod["metadata"]["labels"]["iarnet.provider_id"] == "provider.a");
  const json& main = pod["spec"]["containers"][0];
  CHECK(main["image"] == "iarnet/component:python_3.11-latest");
  CHECK(main["resources"]["limits"]["cpu"] == "250m");
  CHECK(main["resources"]["limits"]["memory"] == std::to_string(64 << 20));
  CHECK(main["resources"]["requests"] == main["resources"]["limits"]);
  std::map<std::string, std::string> env;
  for (auto& e : main["env"]) env[e["name"]] = e["value"];
  CHECK(env == std::map<std::string, std::string>{{"COMPONENT_ID", "comp.e2e"},
                                                  {"LOGGER_ADDR", "host.internal:6001"},
                                                  {"STORE_ADDR", "host.internal:6000"},
                                                  {"ZMQ_ADDR", "tcp://host.internal:5555"}});
  CHECK(pod["spec"]["hostAliases"][0]["ip"] == "10.9.8.7");
  CHECK(pod["spec"]["hostAliases"][0]["hostnames"][0] == "host.internal");
  CHECK(pod["spec"]["restartPolicy"] == "Never");

  // The control plane refreshes capacity right after Deploy.
  auto cap = Capacity(*p.current, "provider.a");
  CHECK(cap.used().cpu() == 250);
  CHECK(cap.available().cpu() == 750);
  // The same Deploy again succeeds and charges once; another spec under the id does not.
  CHECK(Deploy(*p.current, request) == "");
  CHECK(Capacity(*p.current).used().cpu() == 250);
  auto changed = request;
  changed.mutable_resource_request()->set_cpu(300);
  CHECK(Deploy(*p.current, changed).find("different spec") != std::string::npos);
  RequireLedgerExact(*c, ns);

  CHECK(Undeploy(*p.current, "comp.e2e", "provider.a") == "");
  CHECK(Capacity(*p.current).used().cpu() == 0);
  CHECK(WorkloadCount(*c, ns) == 0);
  CHECK(Undeploy(*p.current, "comp.e2e") == "");      // idempotent
  CHECK(Undeploy(*p.current, "comp.unknown") == "");  // unknown: success
  RequireLedgerExact(*c, ns);
  // One log line per call: the id, the caller, the outcome and the time it took.
  std::string log = p.process->Log();
  CHECK(log.find("Deploy \"comp.e2e\" from \"provider.a\": success in ") != std::string::npos);
  CHECK(log.find("Deploy \"comp.e2e\" from \"provider.a\": conflict in ") != std::string::npos);
  CHECK(log.find("Undeploy \"comp.e2e\" from \"provider.a\": success in ") != std::string::npos);
  CHECK(log.find("Undeploy \"comp.unknown\": unknown in ") != std::string::npos);
}

TEST_CASE(
    "grpc: a second control plane is refused while one is connected and the timeout frees the "
    "slot") {
  auto c = AdminClient();
  TestNamespace ns(*c, "grpc");
  Provider p(ns, 1000, "provider: {health_check_timeout: 3s}\n");
  REQUIRE(Connect(*p.current, "provider.a").success());
  auto refused = Connect(*p.current, "provider.b");
  CHECK_FALSE(refused.success());
  CHECK(refused.error().find("provider.a") != std::string::npos);
  pb::GetCapacityRequest r;
  r.set_provider_id("provider.b");
  pb::GetCapacityResponse resp;
  auto s = p.current->Call("GetCapacity", r, &resp);
  CHECK(s.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(s.error_message().find("provider_id mismatch") != std::string::npos);
  CHECK(Deploy(*p.current, DeployOf("comp.b", 10, "provider.b")).find("unauthorized") == 0);
  CHECK(HealthCheck(*p.current, "provider.b").error_code() == grpc::StatusCode::PERMISSION_DENIED);
  // Health checks keep provider.a connected past the timeout...
  for (int i = 0; i < 5; ++i) {
    REQUIRE(HealthCheck(*p.current, "provider.a").ok());
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  CHECK_FALSE(Connect(*p.current, "provider.b").success());
  // ...and silence frees the slot, which the log says.
  std::this_thread::sleep_for(std::chrono::seconds(4));
  CHECK(p.process->WaitForLog("control plane \"provider.a\" is no longer connected"));
  CHECK(Connect(*p.current, "provider.b").success());
  CHECK(HealthCheck(*p.current, "provider.a").error_code() == grpc::StatusCode::PERMISSION_DENIED);
}

TEST_CASE("grpc: a new id takes over once the old one missed two of its check intervals") {
  auto c = AdminClient();
  TestNamespace ns(*c, "grpc");
  Provider p(ns, 1000, "provider: {takeover_floor: 3s}\n");  // timeout: the default 90 s
  REQUIRE(Connect(*p.current, "provider.a").success());
  // Checking about every second: a re-registration under a new id is refused all along.
  auto last_check = std::chrono::steady_clock::now();
  for (int i = 0; i < 12; ++i) {
    last_check = std::chrono::steady_clock::now();  // the provider hears it later than this
    REQUIRE(HealthCheck(*p.current, "provider.a").ok());
    CHECK_FALSE(Connect(*p.current, "provider.b").success());
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  // The measured interval is stored (whole seconds, rounded up).
  json stored;
  CHECK(Eventually([&] {
    stored = c->Get(kProviders, ns, "iarnet-provider")["status"]["controlPlane"];
    int64_t interval = stored.value("healthCheckIntervalSeconds", 0);
    return interval >= 1 && interval <= 3;
  }));
  INFO(stored.dump());
  // Silent now: after two intervals plus 5 s (at least 7 s), long before the 90 s timeout,
  // the new id gets in; never sooner.
  REQUIRE(Eventually(
      [&] {
        bool in = Connect(*p.current, "provider.b").success();
        if (!in) std::this_thread::sleep_for(std::chrono::milliseconds(300));
        return in;
      },
      std::chrono::seconds(40)));
  CHECK(std::chrono::steady_clock::now() - last_check >= std::chrono::seconds(7));
  // The old id is refused, told who is connected.
  grpc::Status old = HealthCheck(*p.current, "provider.a");
  CHECK(old.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(old.error_message().find("provider.b") != std::string::npos);
}

TEST_CASE("grpc: an operator restart between Connect and HealthCheck keeps the connection") {
  auto c = AdminClient();
  TestNamespace ns(*c, "grpc");
  Provider p(ns, 1000);
  REQUIRE(Connect(*p.current, "provider.a").success());
  CHECK(Deploy(*p.current, DeployOf("comp.keep", 100, "provider.a")) == "");
  p.Restart();
  // The channel reconnects with backoff after the process died; the first calls may
  // fail with UNAVAILABLE until it has. Any other failure is a lost connection.
  pb::HealthCheckResponse health;
  grpc::Status status;
  REQUIRE(Eventually(
      [&] {
        status = HealthCheck(*p.current, "provider.a", &health);
        return status.error_code() != grpc::StatusCode::UNAVAILABLE;
      },
      std::chrono::seconds(20)));
  INFO(status.error_message());
  REQUIRE(status.ok());
  CHECK(health.capacity().used().cpu() == 100);
  CHECK_FALSE(Connect(*p.current, "provider.b").success());
  auto cp = c->Get(kProviders, ns, "iarnet-provider")["status"]["controlPlane"];
  CHECK(cp["providerId"] == "provider.a");
  RequireLedgerExact(*c, ns);
}

TEST_CASE("grpc: health checks are answered while the API server or etcd is down") {
  auto c = AdminClient();
  TestNamespace ns(*c, "outage");
  // A record is written at most every 3.3 s and lasts 10 s: the outages below outlast
  // both, so checks must be answered from what the provider knows.
  Provider p(ns, 1000, "provider: {health_check_timeout: 10s}\n");
  REQUIRE(Connect(*p.current, "provider.a").success());
  REQUIRE(HealthCheck(*p.current, "provider.a").ok());
  auto stored_check = [&] {
    auto cp = c->Get(kProviders, ns, "iarnet-provider")["status"]["controlPlane"];
    return kube::ParseTime(cp.value("lastHealthCheck", ""))
        .value_or(std::chrono::system_clock::time_point{});
  };
  // The control plane keeps checking, every second, across both outages.
  std::atomic<bool> done{false};
  std::atomic<int> checks{0}, failed{0}, let_in{0};
  std::mutex mu;
  std::string first_error;
  std::thread control_plane([&] {
    while (!done) {
      grpc::Status s = HealthCheck(*p.current, "provider.a");  // with its 5 s deadline
      ++checks;
      if (!s.ok()) {
        ++failed;
        std::lock_guard<std::mutex> lock(mu);
        if (first_error.empty()) first_error = s.error_message();
      }
      // Still one control plane at a time: another id is refused, not let in.
      if (HealthCheck(*p.current, "provider.b").error_code() != grpc::StatusCode::PERMISSION_DENIED)
        ++let_in;
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
  });
  for (const char* component : {"kube-apiserver", "etcd"}) {
    INFO(component << " stopped");
    StopComponent(component);
    auto stopped = std::chrono::system_clock::now();
    std::this_thread::sleep_for(std::chrono::seconds(12));  // past the record's 10 s
    StartComponent(component);
    // The checks answered meanwhile are stored once the API server takes writes again.
    CHECK(Eventually(
        [&] {
          try {
            return stored_check() > stopped;
          } catch (const kube::Error&) {
            return false;
          }
        },
        std::chrono::seconds(60)));
  }
  done = true;
  control_plane.join();
  INFO(first_error);
  CHECK(failed == 0);
  CHECK(let_in == 0);
  CHECK(checks >= 10);  // the checks went on across both outages (~24 s)
  // And the provider serves Deploys again once its watches have caught up.
  CHECK(
      Eventually([&] { return Deploy(*p.current, DeployOf("comp.after", 10, "provider.a")) == ""; },
                 std::chrono::seconds(90)));
}

TEST_CASE("grpc: host.internal in component Pods maps to the control plane seen on Connect") {
  auto c = AdminClient();
  TestNamespace ns(*c, "grpc");
  Provider p(ns, 1000);
  // The real node's interface address is this host's too: a call to it comes from it,
  // as a control plane on another machine would, where Pods can reach it.
  const char* env_ip = std::getenv("IARNET_REAL_NODE_IP");
  const std::string node_ip = env_ip ? env_ip : "10.213.0.1";
  iarnet::ProviderClient remote(grpc::CreateChannel(node_ip + ":" + std::to_string(p.port),
                                                    grpc::InsecureChannelCredentials()),
                                "resource.provider.Service");
  auto stored = [&] { return c->Get(kProviders, ns, "iarnet-provider")["status"]["controlPlane"]; };

  // From loopback: nothing Pods could reach, so no alias; the log says what to configure.
  REQUIRE(Connect(*p.current, "provider.local").success());
  CHECK_FALSE(stored().contains("address"));
  CHECK(Deploy(*p.current, DeployOf("comp.local", 10, "provider.local")) == "");
  CHECK_FALSE(PodOf(*c, ns, "comp.local")["spec"].contains("hostAliases"));
  CHECK(p.process->WaitForLog("which component Pods cannot reach"));
  CHECK(Undeploy(*p.current, "comp.local", "provider.local") == "");
  pb::DisconnectRequest dr;
  dr.set_provider_id("provider.local");
  pb::DisconnectResponse disconnected;
  REQUIRE(p.current->Call("Disconnect", dr, &disconnected).ok());

  // From the node's address: kept in the IarnetProvider status and mapped in the Pod.
  REQUIRE(Connect(remote, "provider.a").success());
  CHECK(stored()["address"] == node_ip);
  json alias = json::array({{{"ip", node_ip}, {"hostnames", {"host.internal"}}}});
  CHECK(Deploy(remote, DeployOf("comp.a", 10, "provider.a")) == "");
  CHECK(PodOf(*c, ns, "comp.a")["spec"]["hostAliases"] == alias);

  // A restart keeps it: it is read back from the status.
  p.Restart();
  REQUIRE(Eventually(
      [&] {
        return HealthCheck(remote, "provider.a").error_code() != grpc::StatusCode::UNAVAILABLE;
      },
      std::chrono::seconds(20)));
  CHECK(Deploy(remote, DeployOf("comp.b", 10, "provider.a")) == "");
  CHECK(PodOf(*c, ns, "comp.b")["spec"]["hostAliases"] == alias);
  RequireLedgerExact(*c, ns);
}

TEST_CASE("grpc: the older service name serves all its RPCs") {
  auto c = AdminClient();
  TestNamespace ns(*c, "grpc");
  Provider p(ns, 1000);
  auto& old = *p.older;
  REQUIRE(Connect(old, "provider.old").success());
  REQUIRE(HealthCheck(old, "provider.old").ok());
  // An older control plane sends an image and no language.
  auto request = DeployOf("comp.old", 200);
  request.clear_language();
  request.set_image("iarnet/component:python_3.11-latest");
  CHECK(Deploy(old, request) == "");
  CHECK(Capacity(old).used().cpu() == 200);
  pb::GetAvailableRequest ar;
  pb::GetAvailableResponse available;
  REQUIRE(old.Call("GetAvailable", ar, &available).ok());
  CHECK(available.available().cpu() == 800);
  pb::GetRealTimeUsageRequest ur;
  pb::GetRealTimeUsageResponse usage;
  CHECK(Eventually(
      [&] { return old.Call("GetRealTimeUsage", ur, &usage).ok() && usage.usage().cpu() == 200; }));
  // The older service has no Undeploy.
  pb::UndeployRequest undeploy;
  pb::UndeployResponse undeployed;
  CHECK(old.Call("Undeploy", undeploy, &undeployed).error_code() ==
        grpc::StatusCode::UNIMPLEMENTED);
  pb::DisconnectRequest dr;
  dr.set_provider_id("provider.old");
  pb::DisconnectResponse disconnected;
  CHECK(old.Call("Disconnect", dr, &disconnected).ok());
  CHECK(Connect(*p.current, "provider.new").success());  // the slot is free
}

TEST_CASE("grpc: 100 concurrent Deploys never over-admit") {
  auto c = AdminClient();
  TestNamespace ns(*c, "grpc");
  Provider p(ns, 1000);  // room for 50 of 20m
  std::atomic<int> ok{0}, full{0}, other{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 10; ++t) {
    callers.emplace_back([&, t] {
      for (int i = t; i < 100; i += 10) {
        pb::DeployResponse resp;
        auto s = p.current->Call("Deploy", DeployOf("comp.c" + std::to_string(i), 20), &resp);
        if (s.ok() && resp.error().empty())
          ++ok;
        else if (s.ok() && resp.error().find("insufficient capacity") != std::string::npos)
          ++full;
        else
          ++other;
      }
    });
  }
  for (auto& t : callers) t.join();
  CHECK(ok == 50);
  CHECK(full == 50);
  CHECK(other == 0);
  CHECK(Capacity(*p.current).used().cpu() == 1000);
  // Rejected requests leave no workload behind.
  CHECK(Eventually([&] { return WorkloadCount(*c, ns) == 50; }));
  CHECK(Eventually([&] { return Violations(*c, ns, {1000, 4LL << 30, 2}).empty(); }));
}

namespace {

// A workload as a Deploy writes it (its derived name, the finalizer, created-by grpc), or
// as a kubectl user might (`by_deploy` false: a name of its own, no annotation).
json WorkloadAsApplied(const std::string& name, const std::string& id, int64_t cpu,
                       bool by_deploy) {
  json meta = {{"name", name}};
  if (by_deploy) {
    meta["annotations"] = {{"iarnet.io/created-by", "grpc"}};
    meta["finalizers"] = {"iarnet.io/release"};
  }
  return {
      {"apiVersion", "iarnet.io/v1alpha1"},
      {"kind", "IarnetWorkload"},
      {"metadata", meta},
      {"spec",
       {{"instanceId", id},
        {"language", "python"},
        {"resources", {{"cpu", cpu}, {"memory", 64 << 20}, {"gpu", 0}}},
        {"env", json::array({{{"name", "COMPONENT_ID"}, {"value", id}},
                             {{"name", "LOGGER_ADDR"}, {"value", "host.internal:6001"}},
                             {{"name", "STORE_ADDR"}, {"value", "host.internal:6000"}},
                             {{"name", "ZMQ_ADDR"}, {"value", "tcp://host.internal:5555"}}})}}}};
}

bool Admitted(kube::Client& c, const std::string& ns, const std::string& name) {
  try {
    return c.Get(iarnet::kWorkloadResource, ns, name)["status"].contains("admission");
  } catch (const kube::Error&) {
    return false;
  }
}

}  // namespace

TEST_CASE("grpc: a workload whose Deploy was answered with a failure never runs later") {
  auto c = AdminClient();
  TestNamespace ns(*c, "failed");
  Provider p(ns, 1000);
  REQUIRE(Deploy(*p.current, DeployOf("comp.a", 1000)) == "");

  // B's workload as a Deploy interrupted by a crash leaves it; the retried Deploy finds
  // it, is told insufficient capacity, and removes it: nothing is left to run later.
  std::string b = iarnet::WorkloadNameFor("comp.b");
  c->Create(iarnet::kWorkloadResource, ns, WorkloadAsApplied(b, "comp.b", 500, true));
  CHECK(Deploy(*p.current, DeployOf("comp.b", 500)).find("insufficient capacity") !=
        std::string::npos);
  CHECK(Eventually([&] {
    try {
      c->Get(iarnet::kWorkloadResource, ns, b);
      return false;
    } catch (const kube::Error& e) {
      return e.IsNotFound();
    }
  }));

  // One that no Deploy came back for (the provider died after the rejection): it stays
  // rejected. A workload applied with kubectl waits for capacity instead.
  std::string d = iarnet::WorkloadNameFor("comp.d");
  c->Create(iarnet::kWorkloadResource, ns, WorkloadAsApplied(d, "comp.d", 500, true));
  c->Create(iarnet::kWorkloadResource, ns, WorkloadAsApplied("by-kubectl", "comp.e", 500, false));
  CHECK(Eventually([&] { return PhaseOf(*c, ns, d) == "Rejected"; }));
  CHECK(Eventually([&] { return PhaseOf(*c, ns, "by-kubectl") == "Rejected"; }));

  CHECK(Undeploy(*p.current, "comp.a") == "");
  CHECK(Eventually([&] { return PhaseOf(*c, ns, "by-kubectl") == "Running"; }));
  // Both were looked at again when capacity freed; the Deploy's is never admitted.
  CHECK_FALSE(Eventually([&] { return Admitted(*c, ns, d); }, std::chrono::seconds(3)));
  CHECK(PhaseOf(*c, ns, d) == "Rejected");
  CHECK(Capacity(*p.current).used().cpu() == 500);
  RequireLedgerExact(*c, ns);
}

TEST_CASE("grpc: malformed requests get clear errors and leave nothing behind") {
  auto c = AdminClient();
  TestNamespace ns(*c, "grpc");
  Provider p(ns, 1000);
  auto& api = *p.current;
  pb::DeployRequest empty;
  CHECK(Deploy(api, empty) == "invalid Deploy: instance_id is required");
  auto no_resources = DeployOf("comp.m1", 1);
  no_resources.clear_resource_request();  // crashed the reference provider
  CHECK(Deploy(api, no_resources) == "invalid Deploy: resource_request is required");
  auto negative = DeployOf("comp.m2", -5);
  CHECK(Deploy(api, negative).find("must not be negative") != std::string::npos);
  auto go = DeployOf("comp.m3", 1);
  go.set_language(common::LANG_GO);
  CHECK(Deploy(api, go).find("unsupported language") != std::string::npos);
  auto bad_env = DeployOf("comp.m4", 1);
  (*bad_env.mutable_env_vars())["NOT VALID"] = "x";
  CHECK(Deploy(api, bad_env).find("env var name") != std::string::npos);
  auto too_long = DeployOf(std::string(300, 'x'), 1);
  CHECK(Deploy(api, too_long).find("at most 253") != std::string::npos);
  auto huge = DeployOf("comp.m5", 1LL << 50);
  CHECK(Deploy(api, huge).find("insufficient capacity") != std::string::npos);
  std::string reply;
  auto garbage = api.CallRaw("Deploy", std::string("\xff\xff\xff\xff", 4), &reply);
  CHECK(garbage.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(garbage.error_message().find("DeployRequest") != std::string::npos);
  CHECK(HealthCheck(api, "").error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_FALSE(Connect(api, "").success());
  CHECK(Undeploy(api, "") == "invalid Undeploy: instance_id is required");
  CHECK(Eventually([&] { return WorkloadCount(*c, ns) == 0; }));
  // Still serving after all of it.
  CHECK(Deploy(api, DeployOf("comp.fine", 10)) == "");
  RequireLedgerExact(*c, ns);
}

TEST_CASE("grpc: the REST gateway and the CLI each do a Deploy and Undeploy round trip") {
  auto c = AdminClient();
  TestNamespace ns(*c, "rest");
  Provider p(ns, 1000);
  std::string base = "http://127.0.0.1:" + std::to_string(p.http_port);
  CHECK(Capture("curl -sf " + base + "/healthz") == "ok");
  CHECK(Capture("curl -sf " + base + "/readyz") == "ok");
  json deployed = json::parse(Capture(
      "curl -sf -X POST " + base +
      "/v1/Deploy -d '{\"instanceId\": \"comp.rest\", "
      "\"language\": \"LANG_PYTHON\", \"resourceRequest\": {\"cpu\": 300, \"memory\": 1048576}}'"));
  CHECK(deployed["error"] == "");
  json cap = json::parse(Capture("curl -sf -X POST " + base + "/v1/GetCapacity -d '{}'"));
  CHECK(cap["capacity"]["used"]["cpu"] == "300");  // int64 is a string in the JSON mapping
  // Simulated nodes have no kubelet: neither metrics-server nor the summary measure the
  // Pod once it runs, so its requests serve, and say so.
  json usage;
  bool from_requests = Eventually([&] {
    usage = json::parse(Capture("curl -sf " + base + "/v1/usage"));
    return usage["total"]["cpu"] == 300 && usage["source"] == "requests";
  });
  INFO(usage.dump());
  CHECK(from_requests);
  CHECK(json::parse(Capture("curl -sf -X POST " + base +
                            "/v1/Undeploy -d '{\"instanceId\": \"comp.rest\"}'"))["error"] == "");
  // Bad JSON is a 400 with the reason; an unknown path a 404.
  CHECK(Capture("curl -s -o /dev/null -w '%{http_code}' -X POST " + base +
                "/v1/Deploy -d '{nope'") == "400");
  CHECK(Capture("curl -s -o /dev/null -w '%{http_code}' " + base + "/v1/Nothing") == "404");
  std::string metrics = Capture("curl -sf " + base + "/metrics");
  CHECK(metrics.find("iarnet_deploys_total{result=\"success\"} 1") != std::string::npos);
  CHECK(metrics.find("iarnet_ledger_total{resource=\"cpu\"} 1000") != std::string::npos);
  CHECK(metrics.find("controller_runtime_reconcile_total{controller=\"iarnetworkload\"") !=
        std::string::npos);
  CHECK(metrics.find("workqueue_depth{name=\"iarnetworkload\"}") != std::string::npos);

  std::string cli =
      std::string(IARNET_CLI_BINARY) + " --address 127.0.0.1:" + std::to_string(p.port);
  CHECK(Shell(cli + " connect provider.cli >/dev/null") == 0);
  CHECK(Shell(cli + " deploy comp.cli --language python --cpu 400 --memory 1Mi "
                    "--env COMPONENT_ID=comp.cli --provider-id provider.cli >/dev/null") == 0);
  CHECK(json::parse(Capture(cli + " capacity"))["capacity"]["used"]["cpu"] == "400");
  CHECK(
      Shell(cli + " deploy comp.cli2 --language python --cpu 5000 --memory 1Mi >/dev/null 2>&1") ==
      1);  // insufficient capacity: the error field makes the exit status 1
  CHECK(Shell(cli + " undeploy comp.cli >/dev/null") == 0);
  CHECK(json::parse(Capture(cli + " capacity"))["capacity"]["used"]["cpu"] == "0");
  CHECK(Shell(cli + " --older undeploy comp.cli >/dev/null 2>&1") ==
        1);  // not in the older service
  RequireLedgerExact(*c, ns);
}

namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// A CA, a server certificate for "iarnet-provider" and a client certificate, in `dir`.
void MakeCertificates(const std::string& dir) {
  std::string script =
      "set -e; cd " + dir +
      "; openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -subj /CN=test-ca "
      "-days 1 2>/dev/null"
      "; echo subjectAltName=DNS:iarnet-provider > san.ext"
      "; for who in server client; do"
      "  openssl req -newkey rsa:2048 -nodes -keyout $who.key -out $who.csr -subj /CN=$who "
      "2>/dev/null;"
      "  openssl x509 -req -in $who.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out $who.crt "
      "-days 1 -extfile san.ext 2>/dev/null; done";
  REQUIRE(Shell(script) == 0);
}

std::shared_ptr<grpc::Channel> TlsChannel(int port, const std::string& dir, bool client_cert) {
  grpc::SslCredentialsOptions o;
  o.pem_root_certs = Slurp(dir + "/ca.crt");
  if (client_cert) {
    o.pem_private_key = Slurp(dir + "/client.key");
    o.pem_cert_chain = Slurp(dir + "/client.crt");
  }
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride("iarnet-provider");
  return grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port), grpc::SslCredentials(o),
                                   args);
}

}  // namespace

TEST_CASE("grpc: mutual TLS admits a client with a certificate of the CA and no other") {
  auto c = AdminClient();
  TestNamespace ns(*c, "tls");
  std::string dir = Capture("mktemp -d");
  MakeCertificates(dir);
  int port = FreePort();
  std::string yaml = "server: {port: " + std::to_string(port) +
                     ", http_port: 0, tls: {cert_file: " + dir + "/server.crt, key_file: " + dir +
                     "/server.key, client_ca_file: " + dir +
                     "/ca.crt}}\nkubernetes: {namespace: " + std::string(ns) + "}\n";
  ProviderProcess process(yaml, "/tmp/iarnet-" + std::string(ns) + ".log");
  process.Start();
  REQUIRE(process.WaitForLog("(TLS)"));
  iarnet::ProviderClient with_cert(TlsChannel(port, dir, true), "resource.provider.Service");
  iarnet::ProviderClient without_cert(TlsChannel(port, dir, false), "resource.provider.Service");
  iarnet::ProviderClient plain(
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()),
      "resource.provider.Service");
  pb::GetCapacityRequest r;
  pb::GetCapacityResponse resp;
  grpc::Status ok = with_cert.Call("GetCapacity", r, &resp, std::chrono::seconds(5));
  INFO(ok.error_message());
  CHECK(ok.ok());
  CHECK(resp.capacity().total().cpu() == 8000);
  CHECK(without_cert.Call("GetCapacity", r, &resp, std::chrono::seconds(5)).error_code() ==
        grpc::StatusCode::UNAVAILABLE);
  CHECK(plain.Call("GetCapacity", r, &resp, std::chrono::seconds(5)).error_code() ==
        grpc::StatusCode::UNAVAILABLE);
  Shell("rm -rf " + dir);
}

TEST_CASE("grpc: SIGTERM drains a Deploy in flight before the process exits") {
  auto c = AdminClient();
  TestNamespace ns(*c, "drain");
  // A Lease held by a replica that does not exist: this provider follows and never
  // reconciles, so a Deploy waits its whole timeout for a verdict.
  json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                {"kind", "Lease"},
                {"metadata", {{"name", "iarnet-k8s-provider"}}},
                {"spec",
                 {{"holderIdentity", "elsewhere"},
                  {"leaseDurationSeconds", 3600},
                  {"renewTime", kube::FormatMicroTime(std::chrono::system_clock::now())}}}};
  c->Create(kube::resources::kLeases, ns, lease);
  Provider p(ns, 1000,
             "provider: {deploy_timeout: 3s}\n"
             "leader_election: {enabled: true}\n");
  std::string error;
  grpc::Status status;
  std::thread call([&] {
    pb::DeployResponse resp;
    status = p.current->Call("Deploy", DeployOf("comp.drain", 10), &resp);
    error = resp.error();
  });
  std::this_thread::sleep_for(std::chrono::seconds(1));
  int wait_status = p.process->Kill(SIGTERM);  // returns once the process has exited
  call.join();
  CHECK(WIFEXITED(wait_status));
  CHECK(WEXITSTATUS(wait_status) == 0);
  INFO(status.error_message());
  REQUIRE(status.ok());  // answered, not cut off
  CHECK(error.find("was not running within 3000 ms") != std::string::npos);
  // The timed-out request left no workload behind.
  CHECK(Eventually([&] { return WorkloadCount(*c, ns) == 0; }));
}

TEST_CASE("Deploy: a provider killed during Deploys keeps what it answered, drops the rest") {
  auto c = AdminClient();
  TestNamespace ns(*c, "interrupted");
  // deploy_timeout 2s: a workload whose Deploy never answered goes 12 s after creation.
  Provider p(ns, 1000000, "provider: {deploy_timeout: 2s}\n");
  std::mutex mu;
  std::set<std::string> answered;  // guarded by mu
  std::atomic<bool> stop{false};
  std::vector<std::thread> callers;
  for (int t = 0; t < 8; ++t) {
    callers.emplace_back([&, t] {
      for (int i = 0; !stop; ++i) {
        std::string id = "comp.k" + std::to_string(t) + "x" + std::to_string(i);
        pb::DeployRequest r = DeployOf(id, 10);
        r.mutable_resource_request()->set_memory(1 << 20);  // room for thousands
        pb::DeployResponse resp;
        grpc::Status s = p.current->Call("Deploy", r, &resp, std::chrono::seconds(5));
        if (!s.ok()) return;  // the provider died under this Deploy
        std::lock_guard<std::mutex> lock(mu);
        if (resp.error().empty()) answered.insert(id);
      }
    });
  }
  REQUIRE(Eventually([&] {
    std::lock_guard<std::mutex> lock(mu);
    return answered.size() >= 20;
  }));
  p.process->Kill(SIGKILL);  // eight Deploys in flight
  stop = true;
  for (auto& t : callers) t.join();
  auto annotation = [](const json& w) {
    return w["metadata"].value("annotations", json::object()).value("iarnet.io/deploy", "");
  };
  size_t unanswered = 0;
  json after_kill = c->ListAll(kWorkloads, ns);  // a named list: the loop reads into it
  for (const auto& w : after_kill["items"]) unanswered += annotation(w) == "pending";
  CHECK(unanswered >= 1);  // workloads of Deploys the kill interrupted

  p.Start();
  // Once those Deploys must have ended, only what a Deploy answered (or was about to
  // answer when it died: marked, its answer lost) remains, and nothing it answered goes.
  std::set<std::string> remaining;
  json items;
  REQUIRE(Eventually(
      [&] {
        items = c->ListAll(kWorkloads, ns)["items"];
        for (const auto& w : items)
          if (annotation(w) != "answered") return false;
        return true;
      },
      std::chrono::seconds(60)));
  for (const auto& w : items) remaining.insert(w["spec"].value("instanceId", ""));
  std::lock_guard<std::mutex> lock(mu);
  for (const auto& id : answered) CHECK(remaining.count(id) == 1);
  CHECK(remaining.size() <= answered.size() + 8);
  RequireLedgerExact(*c, ns);
}

namespace {

void Disconnect(iarnet::ProviderClient& c, const std::string& id) {
  pb::DisconnectRequest dr;
  dr.set_provider_id(id);
  pb::DisconnectResponse out;
  REQUIRE(c.Call("Disconnect", dr, &out).ok());
}

std::string OrphanedAt(kube::Client& c, const std::string& ns, const std::string& id) {
  json w = c.Get(kWorkloads, ns, iarnet::WorkloadNameFor(id));
  return w.value("status", json::object()).value("orphanedAt", "");
}

bool Gone(kube::Client& c, const std::string& ns, const std::string& name) {
  return Absent(c, kWorkloads, ns, name);
}

}  // namespace

TEST_CASE(
    "orphans: a Deploy's workload whose session ended is deleted after the grace, "
    "a kubectl one never") {
  auto c = AdminClient();
  TestNamespace ns(*c, "orphan");
  Provider p(ns, 1000, "provider: {orphan_grace: 3s}\n");
  REQUIRE(Connect(*p.current, "provider.a").success());
  REQUIRE(Deploy(*p.current, DeployOf("comp.orphan", 100, "provider.a")) == "");
  c->Create(kWorkloads, ns, NewWorkload("applied", 100));
  REQUIRE(Eventually([&] { return PhaseOf(*c, ns, "applied") == "Running"; }));
  CHECK(OrphanedAt(*c, ns, "comp.orphan").empty());  // connected: not an orphan

  Disconnect(*p.current, "provider.a");
  // Stamped, with an event, then deleted once the grace has passed; its charge returns.
  CHECK(Eventually([&] { return !OrphanedAt(*c, ns, "comp.orphan").empty(); }));
  CHECK(Eventually([&] { return Gone(*c, ns, iarnet::WorkloadNameFor("comp.orphan")); },
                   std::chrono::seconds(60)));
  CHECK(Eventually([&] {
    std::set<std::string> reasons;
    json events = c->List(kube::resources::kEvents, ns);
    for (const auto& e : events["items"]) reasons.insert(e.value("reason", ""));
    return reasons.count("Orphaned") == 1 && reasons.count("OrphanDeleted") == 1;
  }));
  CHECK(PhaseOf(*c, ns, "applied") == "Running");
  json applied = c->Get(kWorkloads, ns, "applied");
  CHECK_FALSE(applied["status"].contains("orphanedAt"));
  CHECK(Eventually([&] { return Capacity(*p.current).used().cpu() == 100; }));
  RequireLedgerExact(*c, ns);
}

TEST_CASE("orphans: a control plane back within the grace keeps its workloads") {
  auto c = AdminClient();
  TestNamespace ns(*c, "orphan");
  Provider p(ns, 1000, "provider: {orphan_grace: 10m}\n");
  REQUIRE(Connect(*p.current, "provider.a").success());
  REQUIRE(Deploy(*p.current, DeployOf("comp.back", 100, "provider.a")) == "");
  Disconnect(*p.current, "provider.a");
  REQUIRE(Eventually([&] { return !OrphanedAt(*c, ns, "comp.back").empty(); }));
  REQUIRE(Connect(*p.current, "provider.a").success());
  CHECK(Eventually([&] { return OrphanedAt(*c, ns, "comp.back").empty(); }));
  CHECK(Capacity(*p.current).used().cpu() == 100);
}

TEST_CASE("orphans: with orphan_policy keep, an ended session's workloads stay") {
  auto c = AdminClient();
  TestNamespace ns(*c, "orphan");
  Provider p(ns, 1000, "provider: {orphan_policy: keep, orphan_grace: 1s}\n");
  REQUIRE(Connect(*p.current, "provider.a").success());
  REQUIRE(Deploy(*p.current, DeployOf("comp.kept", 100, "provider.a")) == "");
  Disconnect(*p.current, "provider.a");
  REQUIRE(Connect(*p.current, "provider.b").success());  // another id took the slot
  // Past the grace and two of the controller's 2 s looks: still there, never stamped.
  std::this_thread::sleep_for(std::chrono::seconds(5));
  CHECK(OrphanedAt(*c, ns, "comp.kept").empty());
  CHECK_FALSE(Gone(*c, ns, iarnet::WorkloadNameFor("comp.kept")));
  CHECK(Capacity(*p.current, "provider.b").used().cpu() == 100);
}
