// The provider process against clients that are slow, careless or hostile: REST
// connections that never finish their request, bodies over the limit, malformed HTTP and
// JSON, images and ids that are not what they claim. Each must get a clear 4xx (or
// error) and change nothing; the gateway must keep answering everyone else and drain on
// SIGTERM within its grace.
#include <catch2/catch.hpp>
#include <csignal>
#include <memory>
#include <sstream>
#include <thread>
#include <vector>

#include "controller/iarnet_resources.h"
#include "kube/error.h"
#include "tests/support/control_plane.h"
#include "tests/support/raw_http.h"
#include "tests/support/support.h"

using namespace testing;
using kube::json;
using namespace std::chrono_literals;

namespace {

// A Deploy as the REST gateway takes it.
std::string DeployJson(const std::string& id, int64_t cpu) {
  return json({{"instanceId", id},
               {"language", "LANG_PYTHON"},
               {"resourceRequest", {{"cpu", cpu}, {"memory", 64 << 20}}},
               {"envVars", {{"COMPONENT_ID", id}}}})
      .dump();
}

// The headers of a POST that announces `length` bytes of body.
std::string PostHeaders(const std::string& path, size_t length) {
  return "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
         "Content-Length: " + std::to_string(length) + "\r\n\r\n";
}

std::string Message(const RawResponse& r) {
  try {
    return json::parse(r.body).value("message", "");
  } catch (const std::exception&) {
    return "";
  }
}

// Every line of the provider's log is short and none was forged by a client.
void RequireCleanLog(const std::string& log) {
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    INFO(line.substr(0, 200));
    CHECK(line.size() < 9000);
    CHECK(line.find("FORGED-LOG-LINE") != 0);
    CHECK(line.rfind("E1231 23:59:59", 0) != 0);
  }
}

}  // namespace

TEST_CASE("hostile: slow clients holding unfinished bodies hang nothing, and SIGTERM drains them") {
  auto c = AdminClient();
  TestNamespace ns(*c, "slow");
  Provider p(ns, 2000, "", "shutdown_grace: 5s");
  REQUIRE(Eventually([&] { return HttpCall(p.http_port, "GET", "/readyz").status == 200; }));

  // 60 connections: the headers of a Deploy, then 10 of the 1000 bytes they announce.
  std::vector<std::unique_ptr<RawConnection>> slow;
  for (int i = 0; i < 60; ++i) {
    slow.push_back(std::make_unique<RawConnection>(p.http_port));
    REQUIRE(slow.back()->Send(PostHeaders("/v1/Deploy", 1000) + "{\"instanc"));
  }
  // Everyone else is still answered (the bound only tells a hang from an answer).
  CHECK(HttpCall(p.http_port, "GET", "/readyz", "", 10s).status == 200);
  CHECK(HttpCall(p.http_port, "GET", "/healthz", "", 10s).status == 200);
  auto deployed = HttpCall(p.http_port, "POST", "/v1/Deploy", DeployJson("comp.slow", 250), 30s);
  CHECK(deployed.status == 200);
  CHECK(json::parse(deployed.body).value("error", "?") == "");
  CHECK(Capacity(*p.current).used().cpu() == 250);
  // A Deploy through gRPC too.
  CHECK(Deploy(*p.current, DeployOf("comp.slow-grpc", 250)) == "");

  // SIGTERM with the 60 still connected: the process ends within its grace (5 s), plus
  // what exiting takes (the sanitizers' leak check) on a loaded machine.
  auto started = std::chrono::steady_clock::now();
  auto status = p.process->SignalAndWait(SIGTERM, 5s + 20s);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  INFO("SIGTERM to exit: " << took.count() << " ms");
  REQUIRE(status.has_value());
  CHECK(WIFEXITED(*status));
  CHECK(WEXITSTATUS(*status) == 0);
  // The slow clients' connections were closed by the drain.
  for (auto& s : slow) CHECK(s->ClosedWithin(5s));
}

TEST_CASE("hostile: a request that does not arrive in time is refused, an idle connection closed") {
  auto c = AdminClient();
  TestNamespace ns(*c, "rtimeout");
  Provider p(ns, 1000, "", "http_read_timeout: 1s");
  REQUIRE(Eventually([&] { return HttpCall(p.http_port, "GET", "/readyz").status == 200; }));

  RawConnection partial(p.http_port);
  REQUIRE(partial.Send("GET /readyz HTTP/1.1\r\nHost: x\r\n"));  // headers never end
  std::string answer;
  // Without a read timeout neither would ever be closed.
  REQUIRE(partial.ClosedWithin(30s, &answer));
  CHECK(ParseResponse(answer).status == 408);
  RawConnection idle(p.http_port);
  answer.clear();
  REQUIRE(idle.ClosedWithin(30s, &answer));
  CHECK(answer.empty());  // nothing asked, nothing answered

  // A body shorter than its Content-Length times out as well.
  RawConnection short_body(p.http_port);
  REQUIRE(short_body.Send(PostHeaders("/v1/GetCapacity", 100) + "{}"));
  answer.clear();
  REQUIRE(short_body.ClosedWithin(30s, &answer));
  CHECK(ParseResponse(answer).status == 408);
}

TEST_CASE("hostile: connections past the cap are refused, and the cap frees up") {
  auto c = AdminClient();
  TestNamespace ns(*c, "cap");
  Provider p(ns, 1000, "", "http_max_connections: 8, http_read_timeout: 60s");
  REQUIRE(Eventually([&] { return HttpCall(p.http_port, "GET", "/readyz").status == 200; }));

  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 8; ++i) held.push_back(std::make_unique<RawConnection>(p.http_port));
  // The eight are accepted before the ninth (one listen queue, accepted in order).
  auto refused = HttpCall(p.http_port, "GET", "/readyz");
  CHECK(refused.status == 503);
  CHECK(Message(refused).find("too many connections") != std::string::npos);
  held.clear();
  CHECK(Eventually([&] { return HttpCall(p.http_port, "GET", "/readyz").status == 200; }));
}

TEST_CASE("hostile: bodies over 4 MiB get 413 and bad HTTP gets 4xx, never 5xx") {
  auto c = AdminClient();
  TestNamespace ns(*c, "limits");
  Provider p(ns, 1000);
  REQUIRE(Eventually([&] { return HttpCall(p.http_port, "GET", "/readyz").status == 200; }));

  // Announced: refused before a byte of it is read.
  RawConnection big(p.http_port);
  REQUIRE(big.Send(PostHeaders("/v1/Deploy", 40 << 20)));
  auto announced = big.ReadResponse(30s);
  CHECK(announced.status == 413);
  CHECK(Message(announced).find("larger than 4194304 bytes") != std::string::npos);

  // Streamed (chunked, no length): refused once 4 MiB have come.
  RawConnection chunked(p.http_port);
  REQUIRE(
      chunked.Send("POST /v1/Deploy HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
  std::string chunk(1 << 20, ' ');
  std::ostringstream size;
  size << std::hex << chunk.size();
  for (int i = 0; i < 6 && chunked.Send(size.str() + "\r\n" + chunk + "\r\n"); ++i) {
  }
  CHECK(chunked.ReadResponse(30s).status == 413);

  for (const char* length : {"-1", "99999999999999999999999", "12abc"}) {
    INFO(length);
    RawConnection bad(p.http_port);
    REQUIRE(bad.Send(std::string("POST /v1/GetCapacity HTTP/1.1\r\nHost: x\r\nContent-Length: ") +
                     length + "\r\n\r\n{}"));
    auto r = bad.ReadResponse(30s);
    CHECK(r.status >= 400);
    CHECK(r.status < 500);
  }
  RawConnection garbage(p.http_port);
  REQUIRE(garbage.Send("\x16\x03\x01 not http at all\r\n\r\n"));
  CHECK(garbage.ReadResponse(30s).status == 400);

  // A Content-Length shorter than the body: the rest is read as the next request.
  RawConnection longer(p.http_port);
  REQUIRE(longer.Send(PostHeaders("/v1/GetCapacity", 2) + "{}garbage garbage\r\n\r\n"));
  std::string both = longer.ReadUntilClosed(30s);
  CHECK(ParseResponse(both).status == 200);
  CHECK(both.find("HTTP/1.1 400") != std::string::npos);
  CHECK(both.find("HTTP/1.1 5") == std::string::npos);
  CHECK(WorkloadCount(*c, ns) == 0);
}

TEST_CASE("hostile: JSON that is not strictly the message is a 400 naming the field") {
  auto c = AdminClient();
  TestNamespace ns(*c, "json");
  Provider p(ns, 1000);
  REQUIRE(Eventually([&] { return HttpCall(p.http_port, "GET", "/readyz").status == 200; }));
  auto deploy = [&](const std::string& body) {
    return HttpCall(p.http_port, "POST", "/v1/Deploy", body);
  };

  auto utf8 = deploy("{\"instanceId\": \"comp.\xff\xfe\", \"language\": \"LANG_PYTHON\"}");
  CHECK(utf8.status == 400);
  CHECK(Message(utf8).find("UTF-8") != std::string::npos);
  auto comma = deploy(R"({"instanceId": "comp.comma", "language": "LANG_PYTHON",})");
  CHECK(comma.status == 400);
  auto nested = deploy(
      R"({"instanceId": "comp.nested", "language": "LANG_PYTHON", "resourceRequest": {"cpu": 1, "tags": [["a"]]}})");
  CHECK(nested.status == 400);
  CHECK(Message(nested).find("resourceRequest.tags[0] must be a string") != std::string::npos);
  std::string deep_tags = std::string(100000, '[') + std::string(100000, ']');
  auto deep =
      deploy(R"({"instanceId": "comp.deep", "resourceRequest": {"tags": )" + deep_tags + "}}");
  CHECK(deep.status == 400);
  CHECK(Message(deep).find("nested deeper than") != std::string::npos);
  auto unknown = deploy(R"({"instanceId": "comp.unknown", "languages": "LANG_PYTHON"})");
  CHECK(unknown.status == 400);
  CHECK(Message(unknown).find("unknown field \"languages\"") != std::string::npos);
  auto typed = deploy(R"({"instanceId": "comp.typed", "resourceRequest": {"cpu": "a lot"}})");
  CHECK(typed.status == 400);
  CHECK(Message(typed).find("resourceRequest.cpu") != std::string::npos);
  auto image =
      deploy(R"({"instanceId": "comp.image", "image": "img|cat", "resourceRequest": {"cpu": 1}})");
  CHECK(image.status == 200);  // the protocol's answer: DeployResponse.error
  CHECK(json::parse(image.body).value("error", "").find("is not a valid image reference") !=
        std::string::npos);
  CHECK(WorkloadCount(*c, ns) == 0);
  // The strict reader still takes what the mapping allows.
  auto ok = deploy(
      R"({"instance_id": "comp.ok", "language": 3, "resource_request": {"cpu": "100", "memory": 1048576}})");
  CHECK(ok.status == 200);
  CHECK(json::parse(ok.body).value("error", "?") == "");
}

TEST_CASE("hostile: images that are not image references are refused at every door") {
  auto c = AdminClient();
  TestNamespace ns(*c, "images");
  Provider p(ns, 1000);
  for (const char* image : {"image with spaces", "$(touch x)", "a; touch x", "img|cat", "img\nnext",
                            " leading-space:1"}) {
    INFO(image);
    auto r = DeployOf("comp.image", 100);
    r.clear_language();
    r.set_image(image);
    std::string error = Deploy(*p.older, r);
    CHECK(error.find("is not a valid image reference") != std::string::npos);
  }
  CHECK(WorkloadCount(*c, ns) == 0);
  // kubectl and GitOps users meet the same grammar in the CRD.
  json w = {{"apiVersion", "iarnet.io/v1alpha1"},
            {"kind", "IarnetWorkload"},
            {"metadata", {{"name", "bad-image"}, {"namespace", ns.name()}}},
            {"spec",
             {{"instanceId", "comp.bad"},
              {"image", " leading-space:1"},
              {"resources", {{"cpu", 100}, {"memory", 1 << 20}}}}}};
  try {
    c->Create(iarnet::kWorkloadResource, ns, w);
    FAIL("the API server accepted an invalid image");
  } catch (const kube::Error& e) {
    CHECK(e.IsInvalid());
    CHECK(std::string(e.what()).find("spec.image") != std::string::npos);
  }
}

TEST_CASE("hostile: a Pod the cluster refuses as invalid fails the Deploy at once, with why") {
  auto c = AdminClient();
  TestNamespace ns(*c, "refused");
  // An admission policy, as clusters have them: Pods of this namespace may not run images
  // of the repository "iarnet.local/refused". Denials are 422 Invalid.
  std::string policy = "iarnet-test-refuse-" + ns.name();
  json vap = {
      {"apiVersion", "admissionregistration.k8s.io/v1"},
      {"kind", "ValidatingAdmissionPolicy"},
      {"metadata", {{"name", policy}}},
      {"spec",
       {{"failurePolicy", "Fail"},
        {"matchConstraints",
         {{"resourceRules", json::array({{{"apiGroups", {""}},
                                          {"apiVersions", {"v1"}},
                                          {"operations", {"CREATE"}},
                                          {"resources", {"pods"}}}})}}},
        {"validations",
         json::array({{{"expression",
                        "!object.spec.containers.exists(c, "
                        "c.image.startsWith('iarnet.local/refused'))"},
                       {"message", "images from iarnet.local/refused are not allowed"}}})}}}};
  json binding = {{"apiVersion", "admissionregistration.k8s.io/v1"},
                  {"kind", "ValidatingAdmissionPolicyBinding"},
                  {"metadata", {{"name", policy}}},
                  {"spec",
                   {{"policyName", policy},
                    {"validationActions", {"Deny"}},
                    {"matchResources",
                     {{"namespaceSelector",
                       {{"matchLabels", {{"kubernetes.io/metadata.name", ns.name()}}}}}}}}}};
  kube::ResourceType vap_type{"admissionregistration.k8s.io", "v1", "validatingadmissionpolicies",
                              "ValidatingAdmissionPolicy", false};
  kube::ResourceType binding_type{"admissionregistration.k8s.io", "v1",
                                  "validatingadmissionpolicybindings",
                                  "ValidatingAdmissionPolicyBinding", false};
  c->Create(vap_type, "", vap);
  c->Create(binding_type, "", binding);
  struct Cleanup {
    kube::Client& c;
    kube::ResourceType a, b;
    std::string name;
    ~Cleanup() {
      try {
        c.Delete(b, "", name);
        c.Delete(a, "", name);
      } catch (const std::exception&) {
      }
    }
  } cleanup{*c, vap_type, binding_type, policy};
  // The policy takes effect once the API server has loaded it: a Pod it refuses shows it.
  int probes = 0;
  REQUIRE(Eventually([&] {
    std::string name = "probe-" + std::to_string(probes++);
    json probe = {
        {"apiVersion", "v1"},
        {"kind", "Pod"},
        {"metadata", {{"name", name}}},
        {"spec",
         {{"containers", json::array({{{"name", "main"}, {"image", "iarnet.local/refused:1"}}})}}}};
    try {
      c->Create(kube::resources::kPods, ns, probe);
      c->Delete(kube::resources::kPods, ns, name);
      return false;
    } catch (const kube::Error& e) {
      return e.IsInvalid();
    }
  }));

  Provider p(ns, 1000, "provider: {deploy_timeout: 60s}\n");
  auto r = DeployOf("comp.refused", 250);
  r.clear_language();
  r.set_image("iarnet.local/refused:1");
  auto started = std::chrono::steady_clock::now();
  std::string error = Deploy(*p.older, r);
  auto took = std::chrono::steady_clock::now() - started;
  INFO(error);
  CHECK(error.find("PodInvalid") != std::string::npos);
  CHECK(error.find("images from iarnet.local/refused are not allowed") != std::string::npos);
  // Reported as what it is, not as a Deploy that timed out waiting for its Pod.
  CHECK(error.find("is the operator's leader running") == std::string::npos);
  CHECK(took < 60s);
  CHECK(Eventually([&] { return WorkloadCount(*c, ns) == 0; }));
  CHECK(Capacity(*p.current).used().cpu() == 0);
  // Another image still deploys.
  CHECK(Deploy(*p.current, DeployOf("comp.allowed", 250)) == "");
}

TEST_CASE(
    "hostile: control characters in ids are refused, and no client string forges a log line") {
  auto c = AdminClient();
  TestNamespace ns(*c, "ids");
  Provider p(ns, 1000);
  auto forged = DeployOf("comp.a\nE1231 23:59:59 FORGED-LOG-LINE", 100);
  CHECK(Deploy(*p.current, forged).find("must be printable UTF-8 text") != std::string::npos);
  for (std::string id : {std::string("comp.\x1b[2J"), std::string("comp.\0x", 7)}) {
    CHECK(Deploy(*p.current, DeployOf(id, 100)).find("must be printable UTF-8 text") !=
          std::string::npos);
  }
  auto connect = Connect(*p.current, "provider.\nFORGED-LOG-LINE");
  CHECK_FALSE(connect.success());
  CHECK(connect.error().find("must be printable UTF-8 text") != std::string::npos);
  CHECK(Undeploy(*p.current, "comp.\nFORGED-LOG-LINE").find("must be printable UTF-8 text") !=
        std::string::npos);

  // Megabyte strings are answered with a bounded prefix, and logged as one.
  auto env = DeployOf("comp.env", 100);
  (*env.mutable_env_vars())[std::string(1 << 20, 'N') + "\nFORGED-LOG-LINE"] = "x";
  std::string error = Deploy(*p.current, env);
  CHECK(error.find("is not valid") != std::string::npos);
  CHECK(error.size() < 1000);
  auto rest =
      HttpCall(p.http_port, "POST", "/v1/Deploy",
               json({{"instanceId", std::string(40 << 20, 'i') + "\nFORGED-LOG-LINE"}}).dump());
  CHECK(rest.status == 413);
  auto mb = HttpCall(p.http_port, "POST", "/v1/Deploy",
                     json({{"instanceId", std::string(1 << 20, 'i') + "\nFORGED-LOG-LINE"},
                           {"language", "LANG_PYTHON"},
                           {"resourceRequest", {{"cpu", 1}}}})
                         .dump());
  CHECK(mb.status == 200);
  CHECK(json::parse(mb.body).value("error", "").size() < 1000);
  CHECK(WorkloadCount(*c, ns) == 0);
  RequireCleanLog(p.process->Log());
}
