#include "controller/usage_sources.h"

#include "api/iarnet_types.h"
#include "api/quantity.h"
#include "api/vocabulary.h"
#include "controller/ledger.h"

namespace iarnet {
namespace {

// A quantity field of a Pod spec; absent or unreadable counts as zero (the API server
// validated it already).
int64_t SpecQuantity(const json& q, bool milli) {
  if (!q.is_string()) return 0;
  auto r = milli ? ParseMilliQuantity(q.get<std::string>()) : ParseQuantity(q.get<std::string>());
  auto* v = std::get_if<int64_t>(&r);
  return v && *v > 0 ? *v : 0;
}

// A measured quantity: must be present and non-negative, else the source is not trusted.
std::optional<int64_t> Measured(const json& object, const char* key, bool milli,
                                std::string& error) {
  const json& q = object.contains(key) ? object[key] : json();
  if (!q.is_string()) {
    error = std::string("no ") + key + " quantity";
    return std::nullopt;
  }
  auto r = milli ? ParseMilliQuantity(q.get<std::string>()) : ParseQuantity(q.get<std::string>());
  if (auto* e = std::get_if<QuantityError>(&r)) {
    error = std::string(key) + ": " + e->message;
    return std::nullopt;
  }
  if (std::get<int64_t>(r) < 0) {
    error = std::string(key) + " is negative";
    return std::nullopt;
  }
  return std::get<int64_t>(r);
}

// A non-negative integer counter of the summary (`group.key`); nullopt when absent.
std::optional<uint64_t> Counter(const json& object, const char* group, const char* key) {
  if (!object.contains(group) || !object[group].is_object()) return std::nullopt;
  const json& g = object[group];
  if (!g.contains(key)) return std::nullopt;
  const json& v = g[key];
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer() && v.get<int64_t>() >= 0) return v.get<uint64_t>();
  return std::nullopt;  // negative, fractional or not a number
}

}  // namespace

Resources PodRequests(const json& pod) {
  Resources r;
  const json spec = pod.value("spec", json::object());
  for (const auto& c : spec.value("containers", json::array())) {
    json requests = c.value("resources", json::object()).value("requests", json::object());
    json limits = c.value("resources", json::object()).value("limits", json::object());
    r = Add(r,
            {SpecQuantity(requests.value("cpu", json()), true),
             SpecQuantity(requests.value("memory", json()), false),
             SpecQuantity(limits.value("nvidia.com/gpu", requests.value("nvidia.com/gpu", json())),
                          false)});
  }
  return r;
}

std::optional<OwnedPod> AsOwnedPod(const json& pod) {
  const json meta = pod.value("metadata", json::object());
  // Labelled Pods no workload owns are not ours.
  if (!ControlledByWorkload(pod)) return std::nullopt;
  OwnedPod p;
  p.name = meta.value("name", "");
  p.instance_id = meta.value("annotations", json::object()).value(kInstanceIdAnnotation, "");
  if (p.instance_id.empty())
    p.instance_id = meta.value("labels", json::object()).value(kInstanceIdLabel, "");
  p.node = pod.value("spec", json::object()).value("nodeName", "");
  p.running = pod.value("status", json::object()).value("phase", "") == "Running";
  p.requests = PodRequests(pod);
  return p;
}

int64_t NanocoresToMillicores(uint64_t nanocores) {
  return static_cast<int64_t>(nanocores / 1000000 + (nanocores % 1000000 != 0));
}

std::variant<MeasuredUsage, SourceError> UsageFromPodMetrics(const json& list) {
  if (!list.is_object() || !list.contains("items") || !list["items"].is_array())
    return SourceError{"not a PodMetricsList"};
  MeasuredUsage out;
  for (const auto& item : list["items"]) {
    std::string name = item.value("metadata", json::object()).value("name", "");
    if (name.empty()) return SourceError{"a PodMetrics without a name"};
    Resources sum;
    for (const auto& c : item.value("containers", json::array())) {
      const json usage = c.value("usage", json::object());
      std::string error;
      auto cpu = Measured(usage, "cpu", true, error);
      auto memory = cpu ? Measured(usage, "memory", false, error) : std::nullopt;
      if (!memory) return SourceError{"PodMetrics " + name + ": " + error};
      sum = Add(sum, {*cpu, *memory, 0});
    }
    out[name] = sum;
  }
  return out;
}

std::variant<MeasuredUsage, SourceError> UsageFromSummary(const json& summary,
                                                          const std::string& ns) {
  if (!summary.is_object() || !summary.contains("pods") || !summary["pods"].is_array())
    return SourceError{"not a kubelet summary"};
  MeasuredUsage out;
  for (const auto& pod : summary["pods"]) {
    const json ref = pod.value("podRef", json::object());
    if (ref.value("namespace", "") != ns) continue;
    std::string name = ref.value("name", "");
    auto cpu = Counter(pod, "cpu", "usageNanoCores");
    auto memory = Counter(pod, "memory", "workingSetBytes");
    // The kubelet leaves a Pod's numbers out until its first sample: not an error, just
    // nothing measured yet (the Pod counts as zero, like a Pod metrics-server skips).
    if (!cpu || !memory) continue;
    if (*memory > static_cast<uint64_t>(INT64_MAX)) return SourceError{"memory out of range"};
    out[name] = {NanocoresToMillicores(*cpu), static_cast<int64_t>(*memory), 0};
  }
  return out;
}

}  // namespace iarnet
