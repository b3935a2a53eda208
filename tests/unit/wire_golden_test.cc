// The wire contract (PROTOCOL.md) checked byte by byte: messages are encoded by hand
// from the contract's field numbers and decoded with the generated code, and the other
// way round. A renumbered or retyped field fails here.
#include <google/protobuf/descriptor.h>

#include <catch2/catch.hpp>

#include "common/types.pb.h"
#include "grpc-gateway/grpc_services.h"
#include "resource/provider/provider.pb.h"
#include "resource/resource.pb.h"

namespace pb = resource::provider;

namespace {

std::string Varint(uint64_t v) {
  std::string out;
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    out += static_cast<char>(v ? b | 0x80 : b);
  } while (v);
  return out;
}
std::string Tag(int field, int wire) { return Varint(uint64_t(field) << 3 | wire); }
std::string Int(int field, uint64_t v) { return Tag(field, 0) + Varint(v); }
std::string Bytes(int field, const std::string& s) { return Tag(field, 2) + Varint(s.size()) + s; }
std::string Info(int64_t cpu, int64_t mem, int64_t gpu, const std::string& tag = "") {
  std::string out = Int(1, cpu) + Int(2, mem) + Int(3, gpu);
  if (!tag.empty()) out += Bytes(4, tag);
  return out;
}

template <class M>
M Decode(const std::string& bytes) {
  M m;
  REQUIRE(m.ParseFromString(bytes));
  return m;
}

}  // namespace

TEST_CASE("wire: resource.Info and resource.Capacity") {
  auto info = Decode<resource::Info>(Info(1500, 1LL << 33, 2, "camera"));
  CHECK(info.cpu() == 1500);
  CHECK(info.memory() == 1LL << 33);
  CHECK(info.gpu() == 2);
  REQUIRE(info.tags_size() == 1);
  CHECK(info.tags(0) == "camera");
  std::string cap =
      Bytes(1, Info(8000, 100, 4)) + Bytes(2, Info(500, 10, 1)) + Bytes(3, Info(7500, 90, 3));
  auto c = Decode<resource::Capacity>(cap);
  CHECK(c.total().cpu() == 8000);
  CHECK(c.used().gpu() == 1);
  CHECK(c.available().memory() == 90);
  CHECK(c.SerializeAsString() == cap);
}

TEST_CASE("wire: the Language enum values") {
  CHECK(common::LANG_UNKNOWN == 0);
  CHECK(common::LANG_JSON == 1);
  CHECK(common::LANG_GO == 2);
  CHECK(common::LANG_PYTHON == 3);
  CHECK(common::LANG_UNIKERNEL == 4);
}

TEST_CASE("wire: Connect and Disconnect") {
  CHECK(Decode<pb::ConnectRequest>(Bytes(1, "provider.x")).provider_id() == "provider.x");
  CHECK(Decode<pb::DisconnectRequest>(Bytes(1, "provider.x")).provider_id() == "provider.x");
  pb::ConnectResponse r;
  r.set_success(true);
  r.set_error("e");
  r.mutable_provider_type()->set_name("kubernetes");
  r.add_supported_languages(common::LANG_PYTHON);
  r.add_supported_languages(common::LANG_GO);
  // Repeated enums are packed in proto3.
  std::string want = Int(1, 1) + Bytes(2, "e") + Bytes(3, Bytes(1, "kubernetes")) +
                     Bytes(4, Varint(3) + Varint(2));
  CHECK(r.SerializeAsString() == want);
  // An older encoder may send them unpacked; both decode.
  auto unpacked = Decode<pb::ConnectResponse>(Int(1, 1) + Int(4, 3) + Int(4, 2));
  REQUIRE(unpacked.supported_languages_size() == 2);
  CHECK(unpacked.supported_languages(1) == common::LANG_GO);
  CHECK(pb::DisconnectResponse().SerializeAsString().empty());
}

TEST_CASE("wire: capacity and availability and usage") {
  CHECK(Decode<pb::GetCapacityRequest>(Bytes(1, "p")).provider_id() == "p");
  CHECK(Decode<pb::GetAvailableRequest>(Bytes(1, "p")).provider_id() == "p");
  CHECK(Decode<pb::GetRealTimeUsageRequest>(Bytes(1, "p")).provider_id() == "p");
  std::string cap = Bytes(1, Bytes(1, Info(1, 2, 3)));
  CHECK(Decode<pb::GetCapacityResponse>(cap).capacity().total().gpu() == 3);
  CHECK(Decode<pb::GetAvailableResponse>(Bytes(1, Info(7, 8, 9))).available().memory() == 8);
  CHECK(Decode<pb::GetRealTimeUsageResponse>(Bytes(1, Info(7, 8, 9))).usage().cpu() == 7);
  pb::GetAvailableResponse a;
  a.mutable_available()->set_cpu(7);
  a.mutable_available()->set_memory(8);
  a.mutable_available()->set_gpu(9);
  CHECK(a.SerializeAsString() == Bytes(1, Info(7, 8, 9)));
}

TEST_CASE("wire: Deploy and Undeploy") {
  std::string env = Bytes(4, Bytes(1, "COMPONENT_ID") + Bytes(2, "comp.1"));
  std::string bytes = Bytes(1, "comp.1") + Bytes(2, "iarnet/component:python_3.11-latest") +
                      Bytes(3, Info(500, 1 << 20, 1)) + env + Bytes(5, "provider.x") +
                      Int(6, common::LANG_PYTHON);
  auto d = Decode<pb::DeployRequest>(bytes);
  CHECK(d.instance_id() == "comp.1");
  CHECK(d.image() == "iarnet/component:python_3.11-latest");
  CHECK(d.resource_request().cpu() == 500);
  CHECK(d.resource_request().memory() == 1 << 20);
  CHECK(d.resource_request().gpu() == 1);
  CHECK(d.env_vars().at("COMPONENT_ID") == "comp.1");
  CHECK(d.provider_id() == "provider.x");
  CHECK(d.language() == common::LANG_PYTHON);
  CHECK(d.SerializeAsString() == bytes);
  CHECK(Decode<pb::DeployResponse>(Bytes(1, "no")).error() == "no");
  auto u = Decode<pb::UndeployRequest>(Bytes(1, "comp.1") + Bytes(2, "provider.x"));
  CHECK(u.instance_id() == "comp.1");
  CHECK(u.provider_id() == "provider.x");
  CHECK(Decode<pb::UndeployResponse>(Bytes(1, "no")).error() == "no");
}

TEST_CASE("wire: HealthCheck") {
  CHECK(Decode<pb::HealthCheckRequest>(Bytes(1, "p")).provider_id() == "p");
  std::string tags = Int(1, 1) + Int(2, 0) + Int(3, 1) + Int(4, 1);
  auto t = Decode<pb::ResourceTags>(tags);
  CHECK(t.cpu());
  CHECK_FALSE(t.gpu());
  CHECK(t.memory());
  CHECK(t.camera());
  std::string bytes = Bytes(1, Bytes(3, Info(4, 5, 6))) + Bytes(2, Int(2, 1)) +
                      Bytes(3, Varint(common::LANG_PYTHON));
  auto h = Decode<pb::HealthCheckResponse>(bytes);
  CHECK(h.capacity().available().gpu() == 6);
  CHECK(h.resource_tags().gpu());
  REQUIRE(h.supported_languages_size() == 1);
  CHECK(h.supported_languages(0) == common::LANG_PYTHON);
  CHECK(h.SerializeAsString() == bytes);
}

TEST_CASE("wire: both service names and their methods") {
  const auto* current = iarnet::ServiceDescriptorFor("resource.provider.Service");
  const auto* older = iarnet::ServiceDescriptorFor("provider.Service");
  REQUIRE(current);
  REQUIRE(older);
  std::vector<std::string> methods;
  for (int i = 0; i < current->method_count(); ++i) methods.push_back(current->method(i)->name());
  CHECK(methods == std::vector<std::string>{"Connect", "Disconnect", "GetCapacity", "GetAvailable",
                                            "Deploy", "Undeploy", "HealthCheck",
                                            "GetRealTimeUsage"});
  CHECK(older->method_count() == 7);
  CHECK(older->FindMethodByName("Undeploy") == nullptr);
  for (int i = 0; i < older->method_count(); ++i) {
    const auto* m = older->method(i);
    const auto* same = current->FindMethodByName(m->name());
    REQUIRE(same);
    CHECK(m->input_type() == same->input_type());
    CHECK(m->output_type() == same->output_type());
  }
}
