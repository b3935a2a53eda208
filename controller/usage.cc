#include "usage.h"

#include "ledger.h"
#include "quantity.h"

namespace iarnet {
namespace {

int64_t Quantity(const json& q, bool milli) {
  if (!q.is_string()) return 0;
  auto r = milli ? ParseMilliQuantity(q.get<std::string>()) : ParseQuantity(q.get<std::string>());
  auto* v = std::get_if<int64_t>(&r);
  return v && *v > 0 ? *v : 0;
}

bool OwnedByWorkload(const json& pod) {
  for (const auto& ref : pod["metadata"].value("ownerReferences", json::array())) {
    if (ref.value("controller", false) && ref.value("kind", "") == "IarnetWorkload") return true;
  }
  return false;
}

}  // namespace

Resources RunningRequests(const json& pod) {
  Resources r;
  if (pod.value("status", json::object()).value("phase", "") != "Running") return r;
  for (const auto& c : pod["spec"].value("containers", json::array())) {
    json requests = c.value("resources", json::object()).value("requests", json::object());
    json limits = c.value("resources", json::object()).value("limits", json::object());
    r = Add(r, {Quantity(requests.value("cpu", json()), true),
                Quantity(requests.value("memory", json()), false),
                Quantity(limits.value("nvidia.com/gpu", requests.value("nvidia.com/gpu", json())),
                         false)});
  }
  return r;
}

UsageReport UsageCollector::Current() const {
  UsageReport report;
  report.source = "requests";
  for (const auto& p : pods_.List()) {
    if (!OwnedByWorkload(*p)) continue;  // labelled Pods no workload owns are not ours
    Resources r = RunningRequests(*p);
    if (r == Resources{}) continue;
    const json& meta = (*p)["metadata"];
    std::string id = meta.value("annotations", json::object()).value("iarnet.io/instance-id", "");
    if (id.empty()) id = meta.value("labels", json::object()).value("iarnet.instance_id", "");
    report.pods.push_back({meta.value("name", ""), id, r});
    report.total = Add(report.total, r);
  }
  return report;
}

}  // namespace iarnet
