#include "tests/support/workload_census.h"

#include <map>
#include <set>

#include "api/iarnet_types.h"

namespace testing {

using iarnet::Resources;
using kube::json;

json NewWorkload(const std::string& name, int64_t cpu, const std::string& language) {
  return {{"apiVersion", "iarnet.io/v1alpha1"},
          {"kind", "IarnetWorkload"},
          {"metadata", {{"name", name}}},
          {"spec",
           {{"instanceId", "comp." + name},
            {"language", language},
            {"resources", {{"cpu", cpu}, {"memory", 1 << 20}, {"gpu", 0}}},
            {"env", json::array({{{"name", "COMPONENT_ID"}, {"value", "comp." + name}}})}}}};
}

namespace {

Resources ChargeOf(const json& status) {
  const json& a = status["admission"];
  return {a.value("cpu", int64_t{0}), a.value("memory", int64_t{0}), a.value("gpu", int64_t{0})};
}

bool Ended(const std::string& phase) { return phase == "Succeeded" || phase == "Failed"; }

json ManagedPods(kube::Client& c, const std::string& ns) {
  kube::ListOptions managed;
  managed.label_selector = "iarnet.managed=true";
  return c.ListAll(kube::resources::kPods, ns, managed)["items"];
}

json LedgerOf(kube::Client& c, const std::string& ns, const std::string& provider) {
  json p = c.Get(kProviders, ns, provider);
  return p.value("status", json::object()).value("ledger", json::object());
}

Resources ResourcesOf(const json& r) {
  return {r.value("cpu", int64_t{0}), r.value("memory", int64_t{0}), r.value("gpu", int64_t{0})};
}

}  // namespace

Census Count(kube::Client& c, const std::string& ns, const std::string& provider) {
  Census out;
  json list = c.ListAll(kWorkloads, ns);
  for (auto& w : list["items"]) {
    auto s = w.value("status", json::object());
    if (s.contains("admission")) {
      ++out.admitted;
      out.charged = iarnet::Add(out.charged, ChargeOf(s));
    }
    std::string phase = s.value("phase", "");
    if (phase == "Rejected") ++out.rejected;
    if (Ended(phase)) ++out.ended;
  }
  out.pods = int(ManagedPods(c, ns).size());
  json ledger = LedgerOf(c, ns, provider);
  out.ledger_used = ResourcesOf(ledger.value("used", json::object()));
  out.ledger_count = ledger.value("admittedCount", int64_t{-1});
  return out;
}

bool LedgerExact(const Census& c) {
  return c.ledger_used == c.charged && c.ledger_count == c.admitted;
}

std::string PhaseOf(kube::Client& c, const std::string& ns, const std::string& name) {
  return c.Get(kWorkloads, ns, name).value("status", json::object()).value("phase", "");
}

std::vector<std::string> Violations(kube::Client& c, const std::string& ns,
                                    const Resources& capacity, const std::vector<std::string>& gone,
                                    const std::string& provider) {
  std::vector<std::string> out;
  std::map<std::string, json> workloads, asked;  // name -> status, name -> spec.resources
  std::set<std::string> by_deploy;               // created by a Deploy: a rejection is final
  json list = c.ListAll(kWorkloads, ns);         // named: a range-for would not extend its life
  for (auto& w : list["items"]) {
    workloads[w["metadata"]["name"]] = w.value("status", json::object());
    asked[w["metadata"]["name"]] = w["spec"]["resources"];
    if (iarnet::CreatedByDeploy(iarnet::WorkloadFromJson(w)))
      by_deploy.insert(w["metadata"]["name"]);
  }
  std::set<std::string> pods;
  for (auto& p : ManagedPods(c, ns)) {
    std::string name = p["metadata"]["name"];
    pods.insert(name);
    std::string owner;
    for (auto& ref : p["metadata"].value("ownerReferences", json::array()))
      if (ref.value("controller", false)) owner = ref.value("name", "");
    auto it = workloads.find(owner);
    if (it == workloads.end()) {
      out.push_back("Pod " + name + " has no workload");
    } else if (!it->second.contains("admission") && !Ended(it->second.value("phase", ""))) {
      out.push_back("Pod " + name + " belongs to a workload that is not admitted");
    }
  }
  Resources charged;
  int64_t admitted = 0;
  for (auto& [name, status] : workloads) {
    std::string phase = status.value("phase", "");
    if (status.contains("admission")) {
      charged = iarnet::Add(charged, ChargeOf(status));
      ++admitted;
      if (!Ended(phase) && !pods.count(name)) out.push_back("admitted " + name + " has no Pod");
    }
    if (phase != "Running" && phase != "Rejected" && !Ended(phase))
      out.push_back(name + " is still " + (phase.empty() ? "without a phase" : phase));
  }
  if (!iarnet::Fits(charged, capacity))
    out.push_back("over-admitted: " + iarnet::Describe(charged) + " of " +
                  iarnet::Describe(capacity));
  json ledger = LedgerOf(c, ns, provider);
  if (ResourcesOf(ledger.value("used", json::object())) != charged ||
      ledger.value("admittedCount", int64_t{-1}) != admitted) {
    out.push_back("ledger " + ledger.dump() + " is not the sum of " + std::to_string(admitted) +
                  " admission records: " + iarnet::Describe(charged));
  }
  Resources free = iarnet::Available(capacity, charged);
  for (auto& [name, status] : workloads) {
    if (status.value("phase", "") != "Rejected" ||
        status.value("reason", "") != "InsufficientCapacity" || by_deploy.count(name))
      continue;
    if (iarnet::Fits(ResourcesOf(asked[name]), free))
      out.push_back("rejected " + name + " would fit now");
  }
  for (const auto& name : gone) {
    if (workloads.count(name)) out.push_back("deleted " + name + " still exists");
  }
  return out;
}

}  // namespace testing
