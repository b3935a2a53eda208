#include "controller/usage_sources.h"

#include <catch2/catch.hpp>

#include "controller/usage.h"

using iarnet::json;
using iarnet::MeasuredUsage;
using iarnet::Resources;
using iarnet::SourceError;

namespace {

json Pod(const std::string& name, const std::string& phase, const std::string& cpu,
         const std::string& memory, int gpu = 0, bool owned = true) {
  json limits = json::object();
  if (gpu) limits["nvidia.com/gpu"] = std::to_string(gpu);
  json pod = {{"metadata",
               {{"name", name},
                {"annotations", {{"iarnet.io/instance-id", "inst/" + name}}},
                {"labels", {{"iarnet.managed", "true"}}}}},
              {"spec",
               {{"nodeName", "node-a"},
                {"containers",
                 {{{"name", "c"},
                   {"resources",
                    {{"requests", {{"cpu", cpu}, {"memory", memory}}}, {"limits", limits}}}}}}}},
              {"status", {{"phase", phase}}}};
  if (owned)
    pod["metadata"]["ownerReferences"] = {{{"apiVersion", "iarnet.io/v1alpha1"},
                                           {"kind", "IarnetWorkload"},
                                           {"name", name},
                                           {"controller", true}}};
  return pod;
}

MeasuredUsage Ok(const std::variant<MeasuredUsage, SourceError>& v) {
  if (auto* e = std::get_if<SourceError>(&v)) FAIL("unexpected error: " << e->message);
  return std::get<MeasuredUsage>(v);
}

std::string Error(const std::variant<MeasuredUsage, SourceError>& v) {
  REQUIRE(std::holds_alternative<SourceError>(v));
  return std::get<SourceError>(v).message;
}

json Metrics(const std::string& name, std::vector<std::pair<std::string, std::string>> cs) {
  json containers = json::array();
  for (auto& [cpu, mem] : cs)
    containers.push_back({{"name", "c"}, {"usage", {{"cpu", cpu}, {"memory", mem}}}});
  return {{"metadata", {{"name", name}, {"namespace", "ns"}}}, {"containers", containers}};
}

}  // namespace

TEST_CASE("nanocores become millicores, rounded up as kubectl top shows them") {
  CHECK(iarnet::NanocoresToMillicores(0) == 0);
  CHECK(iarnet::NanocoresToMillicores(1) == 1);
  CHECK(iarnet::NanocoresToMillicores(999999) == 1);
  CHECK(iarnet::NanocoresToMillicores(1000000) == 1);
  CHECK(iarnet::NanocoresToMillicores(1000001) == 2);
  CHECK(iarnet::NanocoresToMillicores(2500000000) == 2500);
  CHECK(iarnet::NanocoresToMillicores(UINT64_MAX) == 18446744073710);
}

TEST_CASE("PodMetrics quantities: nanocores, micro, milli, Ki and Mi") {
  json list = {
      {"kind", "PodMetricsList"},
      {"items",
       {Metrics("a", {{"123456789n", "1024Ki"}, {"1m", "1Mi"}}), Metrics("b", {{"250u", "1536Mi"}}),
        Metrics("c", {{"2", "1G"}}), Metrics("d", {{"0", "0"}})}}};
  MeasuredUsage u = Ok(iarnet::UsageFromPodMetrics(list));
  REQUIRE(u.size() == 4);
  CHECK(u["a"] == Resources{124 + 1, 1048576 + 1048576, 0});  // 123.456789m rounds up
  CHECK(u["b"] == Resources{1, int64_t{1536} << 20, 0});      // 0.25m rounds up to 1m
  CHECK(u["c"] == Resources{2000, 1000000000, 0});
  CHECK(u["d"] == Resources{0, 0, 0});
}

TEST_CASE("a PodMetrics answer that does not add up is refused, not half-used") {
  CHECK(Error(iarnet::UsageFromPodMetrics(json::object())) == "not a PodMetricsList");
  CHECK(Error(iarnet::UsageFromPodMetrics({{"items", {Metrics("a", {{"-5m", "1Mi"}})}}})) ==
        "PodMetrics a: cpu is negative");
  CHECK(Error(iarnet::UsageFromPodMetrics({{"items", {Metrics("a", {{"1m", "lots"}})}}}))
            .find("PodMetrics a: memory: ") == 0);
  json no_cpu = Metrics("a", {{"1m", "1Mi"}});
  no_cpu["containers"][0]["usage"].erase("cpu");
  CHECK(Error(iarnet::UsageFromPodMetrics({{"items", {no_cpu}}})) ==
        "PodMetrics a: no cpu quantity");
  json nameless = Metrics("", {{"1m", "1Mi"}});
  CHECK(Error(iarnet::UsageFromPodMetrics({{"items", {nameless}}})) ==
        "a PodMetrics without a name");
}

TEST_CASE("the kubelet summary: our namespace only, nanocores and working-set bytes") {
  json summary = {{"node", {{"nodeName", "n"}}},
                  {"pods",
                   {{{"podRef", {{"name", "a"}, {"namespace", "ns"}}},
                     {"cpu", {{"usageNanoCores", 1500000}}},
                     {"memory", {{"workingSetBytes", 4096}, {"usageBytes", 999999}}}},
                    {{"podRef", {{"name", "foreign"}, {"namespace", "other"}}},
                     {"cpu", {{"usageNanoCores", 7000000000}}},
                     {"memory", {{"workingSetBytes", 1}}}},
                    // No sample yet: nothing measured, not an error.
                    {{"podRef", {{"name", "new"}, {"namespace", "ns"}}}}}}};
  MeasuredUsage u = Ok(iarnet::UsageFromSummary(summary, "ns"));
  REQUIRE(u.size() == 1);
  CHECK(u["a"] == Resources{2, 4096, 0});
  CHECK(Error(iarnet::UsageFromSummary(json::array(), "ns")) == "not a kubelet summary");
  json negative = {{"pods",
                    {{{"podRef", {{"name", "a"}, {"namespace", "ns"}}},
                      {"cpu", {{"usageNanoCores", -1}}},
                      {"memory", {{"workingSetBytes", 1}}}}}}};
  CHECK(Ok(iarnet::UsageFromSummary(negative, "ns")).empty());  // unreadable: not counted
}

TEST_CASE("our Pods: owned by an IarnetWorkload, with instance id, node and requests") {
  auto p = iarnet::AsOwnedPod(Pod("a", "Running", "500m", "64Mi", 2));
  REQUIRE(p.has_value());
  CHECK(p->name == "a");
  CHECK(p->instance_id == "inst/a");
  CHECK(p->node == "node-a");
  CHECK(p->running);
  CHECK(p->requests == Resources{500, int64_t{64} << 20, 2});
  CHECK_FALSE(iarnet::AsOwnedPod(Pod("x", "Running", "1", "1Gi", 0, false)).has_value());
  CHECK_FALSE(iarnet::AsOwnedPod(Pod("p", "Pending", "1", "1Gi"))->running);
}

TEST_CASE("the report: Running Pods only, measured cpu/memory, GPUs held") {
  std::vector<iarnet::OwnedPod> pods = {*iarnet::AsOwnedPod(Pod("a", "Running", "500m", "64Mi", 1)),
                                        *iarnet::AsOwnedPod(Pod("b", "Running", "1", "1Gi")),
                                        *iarnet::AsOwnedPod(Pod("c", "Pending", "1", "1Gi", 1))};
  MeasuredUsage measured = {{"a", {7, 1000, 0}}, {"gone", {100, 100, 0}}};
  auto r = iarnet::BuildUsageReport(pods, &measured, iarnet::UsageSource::kMetricsApi);
  CHECK(r.source == iarnet::UsageSource::kMetricsApi);
  REQUIRE(r.pods.size() == 2);
  CHECK(r.pods[0].usage == Resources{7, 1000, 1});
  CHECK(r.pods[1].usage == Resources{0, 0, 0});  // no sample yet
  CHECK(r.total == Resources{7, 1000, 1});

  auto fallback = iarnet::BuildUsageReport(pods, nullptr, iarnet::UsageSource::kRequests);
  CHECK(fallback.total == Resources{1500, (int64_t{64} << 20) + (int64_t{1} << 30), 1});
  CHECK(iarnet::ToString(fallback.source) == "requests");
}

TEST_CASE("a source serves only when it measured every Running Pod of ours") {
  std::vector<iarnet::OwnedPod> pods = {*iarnet::AsOwnedPod(Pod("a", "Running", "1", "1Gi")),
                                        *iarnet::AsOwnedPod(Pod("b", "Running", "1", "1Gi")),
                                        *iarnet::AsOwnedPod(Pod("c", "Running", "1", "1Gi")),
                                        *iarnet::AsOwnedPod(Pod("p", "Pending", "1", "1Gi"))};
  CHECK(iarnet::Unmeasured(pods, {{"a", {}}, {"b", {}}, {"c", {}}}) == std::nullopt);
  CHECK(iarnet::Unmeasured(pods, {{"a", {}}}) == "no sample for Pod b and 1 more");
  CHECK(iarnet::Unmeasured(pods, {{"a", {}}, {"c", {}}}) == "no sample for Pod b");
  CHECK(iarnet::Unmeasured({}, {}) == std::nullopt);
}
