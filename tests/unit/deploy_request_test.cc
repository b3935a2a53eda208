#include "grpc-gateway/deploy_request.h"

#include <catch2/catch.hpp>

#include "api/names.h"

using namespace iarnet;
namespace pb = resource::provider;

namespace {

ProviderSpec PythonProvider() {
  ProviderSpec p;
  p.languages = {{Language::kPython, "iarnet/component:python_3.11-latest"}};
  return p;
}

pb::DeployRequest Request() {
  pb::DeployRequest r;
  r.set_instance_id("comp.abc");
  r.set_language(common::LANG_PYTHON);
  r.mutable_resource_request()->set_cpu(500);
  r.mutable_resource_request()->set_memory(1 << 20);
  (*r.mutable_env_vars())["ZMQ_ADDR"] = "tcp://host.internal:5555";
  (*r.mutable_env_vars())["COMPONENT_ID"] = "comp.abc";
  return r;
}

std::string Invalid(const pb::DeployRequest& r) {
  auto out = PlanDeploy(r, PythonProvider(), "provider.x");
  auto* bad = std::get_if<DeployInvalid>(&out);
  REQUIRE(bad != nullptr);
  return bad->message;
}

}  // namespace

TEST_CASE("deploy request: a current control plane's request becomes a workload") {
  auto out = PlanDeploy(Request(), PythonProvider(), "provider.x");
  REQUIRE(std::holds_alternative<DeployPlan>(out));
  const DeployPlan& p = std::get<DeployPlan>(out);
  CHECK(p.name == WorkloadNameFor("comp.abc"));
  CHECK(p.spec.instance_id == "comp.abc");
  CHECK(p.spec.language == Language::kPython);
  CHECK(p.spec.image.empty());
  CHECK(p.spec.resources == Resources{500, 1 << 20, 0});
  CHECK(p.spec.provider_id == "provider.x");
  // The env is sorted, so the same request always makes the same spec.
  REQUIRE(p.spec.env.size() == 2);
  CHECK(p.spec.env[0].name == "COMPONENT_ID");
  CHECK(p.spec.env[1].name == "ZMQ_ADDR");
  json m = WorkloadManifest(p, "ns1");
  CHECK(m["metadata"]["name"] == p.name);
  CHECK(m["metadata"]["namespace"] == "ns1");
  // The release finalizer from the start: the controller's first step is admission. A
  // Deploy that gives up before admission removes it again (tested end to end).
  CHECK(m["metadata"]["finalizers"] == json::array({"iarnet.io/release"}));
  // Made by a Deploy that has not answered yet (the controller deletes it if that Deploy
  // never does), and labelled for `kubectl delete iw -l iarnet.provider_id=...`.
  CHECK(m["metadata"]["annotations"]["iarnet.io/created-by"] == "grpc");
  CHECK(m["metadata"]["annotations"]["iarnet.io/deploy"] == "pending");
  CHECK(m["metadata"]["labels"]["iarnet.instance_id"] == p.spec.instance_id);
  CHECK(m["metadata"]["labels"]["iarnet.provider_id"] == p.spec.provider_id);
  CHECK(m["spec"]["language"] == "python");
  CHECK(m["spec"]["resources"]["cpu"] == 500);
  CHECK_FALSE(m["spec"].contains("image"));
}

TEST_CASE("deploy request: an older control plane sends an image and no language") {
  pb::DeployRequest r = Request();
  r.clear_language();
  r.set_image("iarnet/component:python_3.11-latest");
  auto out = PlanDeploy(r, PythonProvider(), "");
  REQUIRE(std::holds_alternative<DeployPlan>(out));
  CHECK(std::get<DeployPlan>(out).spec.image == "iarnet/component:python_3.11-latest");
  CHECK_FALSE(std::get<DeployPlan>(out).spec.language);
}

TEST_CASE("deploy request: bad input is refused with what was wrong") {
  auto r = Request();
  r.clear_instance_id();
  CHECK(Invalid(r) == "invalid Deploy: instance_id is required");
  r = Request();
  r.set_instance_id(std::string(254, 'a'));
  CHECK(Invalid(r) == "invalid Deploy: instance_id is 254 bytes long; at most 253 are allowed");
  r = Request();
  r.clear_resource_request();
  CHECK(Invalid(r) == "invalid Deploy: resource_request is required");
  r = Request();
  r.mutable_resource_request()->set_memory(-1);
  CHECK(Invalid(r).find("must not be negative") != std::string::npos);
  r = Request();
  r.set_language(common::LANG_GO);
  CHECK(Invalid(r) ==
        "cannot deploy comp.abc: unsupported language \"go\": this provider runs python");
  r = Request();
  r.clear_language();
  CHECK(Invalid(r) == "cannot deploy comp.abc: the workload has neither an image nor a language");
  r = Request();
  r.set_language(static_cast<common::Language>(42));
  CHECK(Invalid(r) == "invalid Deploy: unknown language 42");
  r = Request();
  (*r.mutable_env_vars())["1BAD"] = "x";
  CHECK(Invalid(r).find("env var name \"1BAD\" is not valid") != std::string::npos);
}

TEST_CASE("deploy request: hostile images, ids and env names are refused, quoted safely") {
  for (const char* image : {"image with spaces", "$(touch x)", "a; touch x", "img|cat", "img\nnext",
                            " leading-space:1"}) {
    INFO(image);
    auto r = Request();
    r.set_image(image);
    std::string why = Invalid(r);
    CHECK(why.rfind("invalid Deploy: image \"", 0) == 0);
    CHECK(why.find("is not a valid image reference") != std::string::npos);
    CHECK(why.find('\n') == std::string::npos);
  }
  for (std::string id :
       {std::string("comp.\x1b[31mred"), std::string("comp.a\0b", 8),
        std::string("comp.a\nE1231 23:59:59 FORGED-LOG-LINE"), std::string("comp.\xff")}) {
    auto r = Request();
    r.set_instance_id(id);
    std::string why = Invalid(r);
    CHECK(why.find("must be printable UTF-8 text") != std::string::npos);
    CHECK(why.find('\n') == std::string::npos);
    CHECK(why.find('\x1b') == std::string::npos);
  }
  auto r = Request();
  std::string huge(1 << 20, 'N');
  (*r.mutable_env_vars())[huge + "\n"] = "x";
  std::string why = Invalid(r);
  CHECK(why.size() < 300);  // a bounded prefix of the name, not a megabyte
  CHECK(why.find("more bytes") != std::string::npos);
  r = Request();
  (*r.mutable_env_vars())["A\x1b"] = "x";
  CHECK(Invalid(r).find("\\x1b") != std::string::npos);
}

TEST_CASE("deploy request: the same request is the same deploy and any difference is not") {
  auto a = std::get<DeployPlan>(PlanDeploy(Request(), PythonProvider(), "p")).spec;
  auto b = a;
  std::reverse(b.env.begin(), b.env.end());
  CHECK(SameDeploy(a, b));
  b = a;
  b.resources.cpu += 1;
  CHECK_FALSE(SameDeploy(a, b));
  b = a;
  b.env[0].value = "other";
  CHECK_FALSE(SameDeploy(a, b));
  b = a;
  b.provider_id = "someone else";  // not part of what runs
  CHECK(SameDeploy(a, b));
}

TEST_CASE("deploy request: language numbers map both ways") {
  for (auto l : {Language::kJson, Language::kGo, Language::kPython, Language::kUnikernel})
    CHECK(FromProto(ToProto(l)) == l);
  CHECK(ToProto(Language::kPython) == common::LANG_PYTHON);
  CHECK_FALSE(FromProto(common::LANG_UNKNOWN));
}
