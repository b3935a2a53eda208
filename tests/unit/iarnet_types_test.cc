#include "api/iarnet_types.h"

#include <catch2/catch.hpp>

using namespace iarnet;

namespace {
json WorkloadJson() {
  return json::parse(R"({
    "apiVersion": "iarnet.io/v1alpha1", "kind": "IarnetWorkload",
    "metadata": {"name": "w", "namespace": "ns", "uid": "u-1", "resourceVersion": "42",
                 "generation": 3, "deletionTimestamp": "2026-11-30T10:00:00Z",
                 "finalizers": ["iarnet.io/release"], "labels": {"a": "b"}},
    "spec": {"instanceId": "comp.x", "language": "python", "providerId": "provider.p",
             "resources": {"cpu": 500, "memory": 268435456, "gpu": 1},
             "env": [{"name": "COMPONENT_ID", "value": "comp.x"}, {"name": "EMPTY"}]},
    "status": {"phase": "Running", "observedGeneration": 3, "podName": "w-pod", "nodeName": "n",
               "startTime": "2026-11-30T10:00:01Z", "reason": "PodRunning", "message": "m",
               "exitCode": 0,
               "admission": {"cpu": 500, "memory": 268435456, "gpu": 1, "provider": "p",
                             "admittedAt": "2026-11-30T10:00:00Z"},
               "conditions": [{"type": "Admitted", "status": "True", "reason": "Admitted",
                               "message": "ok", "lastTransitionTime": "2026-11-30T10:00:00Z",
                               "observedGeneration": 3}]}
  })");
}
}  // namespace

TEST_CASE("workload JSON maps to C++ and its status maps back unchanged") {
  json j = WorkloadJson();
  Workload w = WorkloadFromJson(j);
  CHECK(w.metadata.name == "w");
  CHECK(w.metadata.namespace_ == "ns");
  CHECK(w.metadata.uid == "u-1");
  CHECK(w.metadata.resource_version == "42");
  CHECK(w.metadata.generation == 3);
  CHECK(w.metadata.deleting);
  CHECK(w.metadata.finalizers == std::vector<std::string>{"iarnet.io/release"});
  CHECK(w.spec.instance_id == "comp.x");
  CHECK(w.spec.language == Language::kPython);
  CHECK(w.spec.resources == Resources{500, 268435456, 1});
  CHECK(w.spec.env == std::vector<EnvVar>{{"COMPONENT_ID", "comp.x"}, {"EMPTY", ""}});
  CHECK(w.status.phase == Phase::kRunning);
  REQUIRE(w.status.admission);
  CHECK(w.status.admission->charged == Resources{500, 268435456, 1});
  CHECK(w.status.exit_code == 0);
  REQUIRE(w.status.conditions.size() == 1);
  CHECK(w.status.conditions[0].observed_generation == 3);
  CHECK(ToJson(w.status) == j["status"]);
  CHECK(WorkloadFromJson(json{{"metadata", ToJson(WorkloadStatus{})}}).status == WorkloadStatus{});
}

TEST_CASE("a released workload's status has no admission record") {
  WorkloadStatus s;
  s.phase = Phase::kSucceeded;
  s.reason = "PodSucceeded";
  json out = ToJson(s);
  CHECK_FALSE(out.contains("admission"));
  CHECK(out == json{{"phase", "Succeeded"}, {"reason", "PodSucceeded"}});
}

TEST_CASE("malformed objects name the field") {
  json j = WorkloadJson();
  j["spec"]["resources"]["cpu"] = "lots";
  CHECK_THROWS_WITH(WorkloadFromJson(j), "spec.resources.cpu: must be an integer");
  j = WorkloadJson();
  j["spec"]["language"] = "cobol";
  CHECK_THROWS_WITH(WorkloadFromJson(j), "spec.language: unknown language \"cobol\"");
  j = WorkloadJson();
  j["status"]["phase"] = "Dancing";
  CHECK_THROWS_WITH(WorkloadFromJson(j), "status.phase: unknown phase \"Dancing\"");
  j = WorkloadJson();
  j["spec"]["env"] = "A=B";
  CHECK_THROWS_WITH(WorkloadFromJson(j), "spec.env: must be a list");
  CHECK_THROWS_WITH(WorkloadFromJson(json::array()), ": must be an object");
}

TEST_CASE("provider spec and status map both ways") {
  json j = json::parse(R"({
    "metadata": {"name": "p", "namespace": "ns"},
    "spec": {"capacity": {"cpu": 8000, "memory": 8589934592, "gpu": 4},
             "resourceTags": {"cpu": true, "memory": true},
             "languages": [{"name": "python", "image": "iarnet/component:python_3.11-latest"}],
             "hostAliases": [{"ip": "10.0.0.1", "hostnames": ["host.internal"]}]},
    "status": {"ledger": {"total": {"cpu": 8000, "memory": 8589934592, "gpu": 4},
                          "used": {"cpu": 1500, "memory": 1073741824, "gpu": 1},
                          "available": {"cpu": 6500, "memory": 7516192768, "gpu": 3},
                          "admittedCount": 2},
               "display": {"cpu": "1500m/8", "memory": "1Gi/8Gi", "gpu": "1/4"},
               "controlPlane": {"providerId": "provider.abc", "connectedAt": "t0", "lastHealthCheck": "t1",
                                "address": "192.168.5.9"}}
  })");
  Provider p = ProviderFromJson(j);
  CHECK(p.spec.capacity == Resources{8000, 8589934592, 4});
  CHECK(p.spec.resource_tags == ResourceTags{true, false, true, false});
  REQUIRE(p.spec.languages.size() == 1);
  CHECK(p.spec.languages[0].language == Language::kPython);
  CHECK(p.spec.host_aliases == std::vector<HostAlias>{{"10.0.0.1", {"host.internal"}}});
  CHECK(p.status.used == Resources{1500, 1073741824, 1});
  CHECK(p.status.admitted_count == 2);
  CHECK(p.status.control_plane.provider_id == "provider.abc");
  CHECK(p.status.control_plane.address == "192.168.5.9");
  CHECK(ToJson(p.status) == j["status"]);
  CHECK(ProviderFromJson(json{{"spec", ToJson(p.spec)}}).spec.languages == p.spec.languages);
}

TEST_CASE("the image comes from spec.image or the provider's language map") {
  ProviderSpec provider;
  provider.languages = {{Language::kPython, "py:1"}, {Language::kGo, "go:1"}};
  WorkloadSpec spec;
  std::string why;
  spec.image = "explicit:2";
  spec.language = Language::kPython;
  CHECK(ImageFor(spec, provider, &why) == "explicit:2");
  spec.image.clear();
  CHECK(ImageFor(spec, provider, &why) == "py:1");
  spec.language = Language::kUnikernel;
  CHECK_FALSE(ImageFor(spec, provider, &why).has_value());
  CHECK(why == "unsupported language \"unikernel\": this provider runs python, go");
  spec.language.reset();
  CHECK_FALSE(ImageFor(spec, provider, &why).has_value());
  CHECK(why == "the workload has neither an image nor a language");
}

TEST_CASE("languages parse from the CRD's names and the protocol's LANG_ names") {
  CHECK(ParseLanguage("python") == Language::kPython);
  CHECK(ParseLanguage("LANG_PYTHON") == Language::kPython);
  CHECK(ParseLanguage("LANG_UNIKERNEL") == Language::kUnikernel);
  CHECK_FALSE(ParseLanguage("Python").has_value());
  CHECK_FALSE(ParseLanguage("LANG_UNKNOWN").has_value());
  for (auto l : {Language::kJson, Language::kGo, Language::kPython, Language::kUnikernel}) {
    CHECK(ParseLanguage(ToString(l)) == l);
  }
}

TEST_CASE("types: the controlling workload is the controller reference to an IarnetWorkload") {
  auto pod = [](json ref) { return json{{"metadata", {{"ownerReferences", json::array({ref})}}}}; };
  json ours = {{"apiVersion", "iarnet.io/v1alpha1"},
               {"kind", "IarnetWorkload"},
               {"name", "w1"},
               {"uid", "u1"},
               {"controller", true}};
  auto ref = iarnet::ControlledByWorkload(pod(ours));
  REQUIRE(ref);
  CHECK(ref->name == "w1");
  CHECK(ref->uid == "u1");
  json not_controller = ours;
  not_controller["controller"] = false;
  CHECK_FALSE(iarnet::ControlledByWorkload(pod(not_controller)));
  json other_kind = ours;
  other_kind["kind"] = "ReplicaSet";
  CHECK_FALSE(iarnet::ControlledByWorkload(pod(other_kind)));
  json other_group = ours;
  other_group["apiVersion"] = "example.com/v1";
  CHECK_FALSE(iarnet::ControlledByWorkload(pod(other_group)));
  CHECK_FALSE(iarnet::ControlledByWorkload(json{{"metadata", json::object()}}));
}

TEST_CASE("types: a workload spec is written as the CRD reads it") {
  iarnet::WorkloadSpec spec;
  spec.instance_id = "comp.1";
  spec.language = iarnet::Language::kPython;
  spec.provider_id = "provider.a";
  spec.resources = {250, 1 << 20, 1};
  spec.env = {{"A", "1"}};
  json object = {{"metadata", {{"name", "w"}, {"namespace", "ns"}}},
                 {"spec", iarnet::ToJson(spec)}};
  iarnet::Workload back = iarnet::WorkloadFromJson(object);
  CHECK(back.spec.instance_id == "comp.1");
  CHECK(back.spec.language == iarnet::Language::kPython);
  CHECK(back.spec.provider_id == "provider.a");
  CHECK(back.spec.resources == spec.resources);
  CHECK(back.spec.env == spec.env);
  CHECK_FALSE(object["spec"].contains("image"));
}

TEST_CASE(
    "types: an uncapped capacity reads and writes as auto, and the cluster view round-trips") {
  ProviderSpec spec;
  spec.capacity = {kUncapped, 4096, kUncapped};
  json j = ToJson(spec);
  CHECK(j["capacity"] == json{{"cpu", "auto"}, {"memory", 4096}, {"gpu", "auto"}});
  CHECK(ProviderFromJson(json{{"spec", j}}).spec.capacity == spec.capacity);
  json bad = {{"spec", {{"capacity", {{"cpu", "lots"}, {"memory", 1}}}}}};
  CHECK_THROWS_WITH(ProviderFromJson(bad), "spec.capacity.cpu: must be a number or auto");

  ProviderStatus s;
  s.total = {4000, 8192, 2};
  ClusterView v;
  v.eligible_nodes = 2;
  v.allocatable = {8000, 16384, 2};
  v.free = {4000, 8192, 1};
  v.largest_placeable = {2500, 4096, 1};
  v.nodes = {{"n1", {2500, 4096, 1}, 9, "A100"}, {"n2", {1500, 4096, 0}, 3, ""}};
  v.gpus = {{"A100", 2, 1}};
  s.cluster = v;
  json out = ToJson(s);
  CHECK(out["display"]["largest"] == "2500m cpu, 4Ki");
  json object = {{"status", out}};
  CHECK(ProviderFromJson(object).status.cluster == s.cluster);
  CHECK(!ToJson(ProviderStatus{}).contains("cluster"));
}

TEST_CASE("types: a workload's GPU model maps both ways") {
  WorkloadSpec spec;
  spec.instance_id = "c";
  spec.gpu_model = "A100";
  json w = {{"metadata", {{"name", "w"}}}, {"spec", ToJson(spec)}};
  CHECK(w["spec"]["gpuModel"] == "A100");
  CHECK(WorkloadFromJson(w).spec.gpu_model == "A100");
  spec.gpu_model = "";
  CHECK(!ToJson(spec).contains("gpuModel"));
}
