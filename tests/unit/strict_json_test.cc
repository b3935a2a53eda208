#include "grpc-gateway/strict_json.h"

#include <catch2/catch.hpp>

#include "resource/provider/provider.pb.h"

using namespace iarnet;
namespace pb = resource::provider;

namespace {

std::string Invalid(const std::string& body) {
  auto out = ParseJsonRequest(body, pb::DeployRequest());
  auto* bad = std::get_if<JsonInvalid>(&out);
  REQUIRE(bad != nullptr);
  return bad->message;
}

pb::DeployRequest Valid(const std::string& body) {
  auto out = ParseJsonRequest(body, pb::DeployRequest());
  if (auto* bad = std::get_if<JsonInvalid>(&out)) FAIL(bad->message);
  return dynamic_cast<const pb::DeployRequest&>(*std::get<0>(out));
}

bool Mentions(const std::string& message, const std::string& part) {
  return message.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("strict JSON: the protobuf JSON mapping is read, by JSON and by proto names") {
  auto r = Valid(R"({"instanceId": "comp.1", "language": "LANG_PYTHON",
      "resourceRequest": {"cpu": 250, "memory": "67108864", "gpu": 0, "tags": ["cpu"]},
      "env_vars": {"A": "1"}, "provider_id": "provider.a", "image": null})");
  CHECK(r.instance_id() == "comp.1");
  CHECK(r.language() == common::LANG_PYTHON);
  CHECK(r.resource_request().cpu() == 250);
  CHECK(r.resource_request().memory() == 67108864);
  CHECK(r.resource_request().tags(0) == "cpu");
  CHECK(r.env_vars().at("A") == "1");
  CHECK(r.provider_id() == "provider.a");
  CHECK(Valid(R"({"language": 3})").language() == common::LANG_PYTHON);
  CHECK(Valid("").instance_id().empty());
  CHECK(Valid(" \n").instance_id().empty());
}

TEST_CASE("strict JSON: a trailing comma, comments or broken UTF-8 are not JSON") {
  CHECK(Mentions(Invalid(R"({"instanceId": "comp.1",})"), "parse error"));
  CHECK(Mentions(Invalid(R"({"tags": ["a",]})"), "parse error"));
  CHECK(Mentions(Invalid("{\"instanceId\": \"comp.1\" /* c */}"), "parse error"));
  std::string broken = Invalid("{\"instanceId\": \"comp.\xff\xfe\"}");
  CHECK(Mentions(broken, "UTF-8"));
  // The message itself is valid UTF-8 (it is sent back in JSON).
  CHECK(broken.find('\xff') == std::string::npos);
  CHECK(Mentions(Invalid("[1, 2]"), "must be a JSON object"));
}

TEST_CASE("strict JSON: unknown and ill-typed fields are refused by name") {
  CHECK(Mentions(Invalid(R"({"instance": "x"})"), "unknown field \"instance\""));
  CHECK(Mentions(Invalid(R"({"resourceRequest": {"cpus": 1}})"),
                 "unknown field \"resourceRequest.cpus\""));
  CHECK(Mentions(Invalid(R"({"resourceRequest": {"tags": [["a"]]}})"),
                 "resourceRequest.tags[0] must be a string"));
  CHECK(Mentions(Invalid(R"({"resourceRequest": {"cpu": "lots"}})"),
                 "resourceRequest.cpu must be an integer"));
  CHECK(Mentions(Invalid(R"({"resourceRequest": {"cpu": 1.5}})"), "resourceRequest.cpu"));
  CHECK(Mentions(Invalid(R"({"resourceRequest": {"cpu": 99999999999999999999}})"), "int64 range"));
  CHECK(Mentions(Invalid(R"({"instanceId": 7})"), "instanceId must be a string"));
  CHECK(Mentions(Invalid(R"({"language": "PYTHON"})"), "language must be one of"));
  CHECK(Mentions(Invalid(R"({"envVars": ["A"]})"), "envVars must be an object"));
  CHECK(Mentions(Invalid(R"({"envVars": {"A": 1}})"), "envVars[\"A\"] must be a string"));
  CHECK(Mentions(Invalid(R"({"resourceRequest": 5})"), "resourceRequest must be a JSON object"));
}

TEST_CASE("strict JSON: nesting is bounded, however deep the body goes") {
  std::string deep = "{\"resourceRequest\": {\"tags\": " + std::string(100000, '[') +
                     std::string(100000, ']') + "}}";
  CHECK(Mentions(Invalid(deep), "nested deeper than"));
  std::string ok = std::string(kMaxJsonDepth - 1, '[') + std::string(kMaxJsonDepth - 1, ']');
  CHECK(Mentions(Invalid("{\"tags\": " + ok + "}"), "unknown field"));  // deep enough to read
}

TEST_CASE("strict JSON: a hostile key is quoted escaped and bounded") {
  std::string key(100000, 'k');
  std::string message = Invalid("{\"" + key + "\\n\": 1}");
  CHECK(message.size() < 400);
  CHECK(message.find('\n') == std::string::npos);
}
