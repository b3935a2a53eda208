// Cluster truth against the local cluster: the provider's capacity and admission follow
// what the nodes can hold, and no admitted workload is left that never runs. Each test
// makes simulated nodes of its own (KWOK keeps them Ready) in a pool that only its
// provider selects (capacity.node_selector), so the shared cluster's nodes do not count.
#include <atomic>
#include <catch2/catch.hpp>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "api/names.h"
#include "api/quantity.h"
#include "controller/iarnet_resources.h"
#include "kube/error.h"
#include "kube/time_format.h"
#include "tests/support/control_plane.h"
#include "tests/support/support.h"
#include "tests/support/workload_census.h"

using namespace testing;
using kube::json;

namespace {

const char* const kPoolLabel = "iarnet.io/pool";

// Simulated nodes of the test's own, labelled with its pool; deleted at the end.
class Pool {
 public:
  Pool(kube::Client& c, std::string ns) : c_(c), ns_(std::move(ns)) {}
  ~Pool() {
    for (const auto& n : names_) {
      try {
        c_.Delete(kube::resources::kNodes, "", n);
      } catch (const std::exception&) {
      }
    }
  }
  // Adds node `<ns>-<suffix>` and waits until KWOK reports it Ready.
  std::string Add(const std::string& suffix, const std::string& cpu, const std::string& memory,
                  int gpus = 0, const std::string& gpu_model = "") {
    std::string name = ns_ + "-" + suffix;
    json labels = {{"iarnet.io/simulated-node", "true"},
                   {kPoolLabel, ns_},
                   {"kubernetes.io/hostname", name},
                   {"type", "kwok"}};
    if (!gpu_model.empty()) labels["nvidia.com/gpu.product"] = gpu_model;
    json resources = {{"cpu", cpu},
                      {"memory", memory},
                      {"pods", "110"},
                      {"nvidia.com/gpu", std::to_string(gpus)}};
    c_.Create(
        kube::resources::kNodes, "",
        {{"apiVersion", "v1"},
         {"kind", "Node"},
         {"metadata",
          {{"name", name}, {"labels", labels}, {"annotations", {{"kwok.x-k8s.io/node", "fake"}}}}},
         {"status", {{"capacity", resources}, {"allocatable", resources}}}});
    names_.push_back(name);
    REQUIRE(Eventually([&] { return Ready(name); }, std::chrono::seconds(60)));
    return name;
  }
  bool Ready(const std::string& name) {
    json node = c_.Get(kube::resources::kNodes, "", name);
    for (const auto& cond : node["status"].value("conditions", json::array())) {
      if (cond.value("type", "") == "Ready") return cond.value("status", "") == "True";
    }
    return false;
  }
  // Takes `name` out of KWOK's selector (no more heartbeats) and reports it NotReady as
  // its kubelet would; returns when that was.
  std::chrono::system_clock::time_point GoDark(const std::string& name) {
    REQUIRE(Shell("kubectl label node " + name + " iarnet.io/simulated-node- >/dev/null") == 0);
    auto when = std::chrono::system_clock::now();
    json status = {
        {"status",
         {{"conditions", json::array({{{"type", "Ready"},
                                       {"status", "False"},
                                       {"reason", "KubeletNotReady"},
                                       {"message", "test: heartbeats stopped"},
                                       {"lastHeartbeatTime", kube::FormatTime(when)},
                                       {"lastTransitionTime", kube::FormatTime(when)}}})}}}};
    kube::PatchOptions o;
    o.subresource = "status";
    c_.Patch(kube::resources::kNodes, "", name, kube::PatchType::kStrategicMerge, status, o);
    return when;
  }
  // The provider's config: this pool only, short timeouts; `capacity` adds to its
  // capacity section (", source: config").
  std::string Config(const std::string& capacity = "") const {
    return "capacity: {node_selector: {" + std::string(kPoolLabel) + ": " + ns_ + "}" + capacity +
           "}\n" + "provider: {schedule_timeout: 3s, node_lost_grace: 5s}\n";
  }

 private:
  kube::Client& c_;
  std::string ns_;
  std::vector<std::string> names_;
};

// A Pod of nobody's, bound straight to `node`, requesting `cpu`.
json ForeignPod(const std::string& name, const std::string& node, const std::string& cpu) {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", name}}},
          {"spec",
           {{"nodeName", node},
            {"containers",
             json::array({{{"name", "c"},
                           {"image", "example.invalid/foreign:1"},
                           {"resources", {{"requests", {{"cpu", cpu}, {"memory", "64Mi"}}}}}}})}}}};
}

json WorkloadOf(kube::Client& c, const std::string& ns, const std::string& id) {
  return c.Get(kWorkloads, ns, iarnet::WorkloadNameFor(id));
}

std::string StatusOf(const json& w, const char* key) {
  return w.value("status", json::object()).value(key, "");
}

// Waits until the instance's workload has `phase`; returns it.
json WaitForPhase(kube::Client& c, const std::string& ns, const std::string& id,
                  const std::string& phase,
                  std::chrono::seconds timeout = std::chrono::seconds(60)) {
  json w;
  bool ok = Eventually(
      [&] {
        w = WorkloadOf(c, ns, id);
        return StatusOf(w, "phase") == phase;
      },
      timeout);
  INFO(w.dump());
  REQUIRE(ok);
  return w;
}

int64_t CpuTotal(Provider& p) { return Capacity(*p.current).total().cpu(); }

std::string Metrics(const Provider& p) { return Capture("curl -sf " + p.RestBase() + "/metrics"); }

// An IarnetWorkload as kubectl would apply it.
json AppliedWorkload(const std::string& name, int64_t cpu, int gpus, const std::string& model) {
  json spec = {{"instanceId", name},
               {"language", "python"},
               {"resources", {{"cpu", cpu}, {"memory", 64 << 20}, {"gpu", gpus}}}};
  if (!model.empty()) spec["gpuModel"] = model;
  return {{"apiVersion", "iarnet.io/v1alpha1"},
          {"kind", "IarnetWorkload"},
          {"metadata", {{"name", name}}},
          {"spec", spec}};
}

// The scheduler stopped while alive, started again on the way out. Started afresh, it
// lists the nodes before it schedules anything, so it sees a taint made while it was
// down (a thawed one could still place a Pod on its stale node cache).
class StoppedScheduler {
 public:
  StoppedScheduler() { StopComponent("kube-scheduler"); }
  ~StoppedScheduler() {
    try {
      Start();
    } catch (const std::exception&) {
    }
  }
  void Start() {
    if (stopped_) StartComponent("kube-scheduler");
    stopped_ = false;
  }

 private:
  bool stopped_ = true;
};

// One 4-core node in the test's pool and a provider capped at 8 cores: what the
// single-node tests start from.
struct OneNode {
  std::unique_ptr<kube::Client> client = AdminClient();
  TestNamespace ns{*client, "truth"};
  Pool pool{*client, ns};
  std::string node = pool.Add("a", "4", "8Gi");
  Provider provider{ns, 0, pool.Config(), "", "cpu: 8000, memory: 64Gi, gpu: 0"};
  OneNode() {
    // Generous: right after a test restarted the API server, the provider's first lists
    // and KWOK's heartbeats can take a while on a loaded machine.
    bool whole = Eventually([&] { return CpuTotal(provider) == 4000; }, std::chrono::seconds(120));
    INFO("the provider's view: " << client->Get(kProviders, ns, "iarnet-provider")
                                        .value("status", json::object())
                                        .value("cluster", json::object())
                                        .dump());
    REQUIRE(whole);
  }
};

}  // namespace

TEST_CASE("cluster truth: capacity follows the nodes: a foreign Pod, cordon and uncordon") {
  auto c = AdminClient();
  TestNamespace ns(*c, "truth");
  TestNamespace other(*c, "truth-other");
  Pool pool(*c, ns);
  std::string a = pool.Add("a", "4", "8Gi");
  std::string b = pool.Add("b", "4", "8Gi");
  Provider p(ns, 0, pool.Config(), "", "cpu: 8000, memory: 64Gi, gpu: 0");
  CHECK(Eventually([&] { return CpuTotal(p) == 8000; }));

  // A foreign Pod of 3 CPUs on node a: 3 CPUs fewer to offer, within seconds.
  c->Create(kube::resources::kPods, other, ForeignPod("foreign", a, "3"));
  CHECK(Eventually([&] { return CpuTotal(p) == 5000; }));
  CHECK(Capacity(*p.current).available().cpu() == 5000);
  // Cordoned, node b holds nothing for us; uncordoned, it is back.
  REQUIRE(Shell("kubectl cordon " + b + " >/dev/null") == 0);
  CHECK(Eventually([&] { return CpuTotal(p) == 1000; }));
  REQUIRE(Shell("kubectl uncordon " + b + " >/dev/null") == 0);
  CHECK(Eventually([&] { return CpuTotal(p) == 5000; }));
  // A node that joins adds what it holds.
  pool.Add("c", "2", "8Gi");
  CHECK(Eventually([&] { return CpuTotal(p) == 7000; }));
  // The foreign Pod gone, the cap decides again (4 + 4 + 2 cores, capped at 8).
  c->Delete(kube::resources::kPods, other, "foreign");
  CHECK(Eventually([&] { return CpuTotal(p) == 8000; }));

  // The IarnetProvider's status shows the nodes; /metrics the cluster's numbers.
  json status;
  CHECK(Eventually([&] {
    status = c->Get(kProviders, ns, "iarnet-provider")["status"];
    return status.contains("cluster") && status["cluster"].value("eligibleNodes", 0) == 3 &&
           status["cluster"]["largestPlaceable"].value("cpu", 0) == 4000;
  }));
  INFO(status.dump());
  CHECK(status["cluster"]["nodes"].size() == 3);
  CHECK(status["display"].value("largest", "") == "4 cpu, 8Gi");
  std::string m = Metrics(p);
  CHECK(m.find("iarnet_cluster_allocatable{resource=\"cpu\"} 10000") != std::string::npos);
  CHECK(m.find("iarnet_cluster_eligible_nodes 3") != std::string::npos);
}

TEST_CASE("cluster truth: a request no node holds, or only the sum of nodes, is NoNodeFits") {
  auto c = AdminClient();
  TestNamespace ns(*c, "truth");
  Pool pool(*c, ns);
  pool.Add("a", "4", "8Gi");
  pool.Add("b", "4", "8Gi");
  Provider p(ns, 0, pool.Config(), "", "cpu: 8000, memory: 64Gi, gpu: 0");
  REQUIRE(Eventually([&] { return CpuTotal(p) == 8000; }));

  // 6 CPUs fit the ledger (8) but no node (4 each): refused at once, nothing left.
  std::string err = Deploy(*p.current, DeployOf("comp.six", 6000));
  INFO(err);
  CHECK(err.find("NoNodeFits: no node can hold cpu 6") != std::string::npos);
  CHECK(Eventually([&] { return WorkloadCount(*c, ns) == 0; }));
  // Fragmentation: 3 + 3 run, one on each node; 2 more fit the sum (2 free) but no node.
  CHECK(Deploy(*p.current, DeployOf("comp.three1", 3000)) == "");
  CHECK(Deploy(*p.current, DeployOf("comp.three2", 3000)) == "");
  std::string frag = Deploy(*p.current, DeployOf("comp.two", 2000));
  INFO(frag);
  CHECK(frag.find("NoNodeFits") != std::string::npos);
  CHECK(Deploy(*p.current, DeployOf("comp.one", 1000)) == "");
  CHECK(Capacity(*p.current).used().cpu() == 7000);
  // The ledger's own limit is still InsufficientCapacity.
  CHECK(Deploy(*p.current, DeployOf("comp.big", 2000)).find("InsufficientCapacity") !=
        std::string::npos);
  std::string m = Metrics(p);
  CHECK(m.find("iarnet_admission_rejections_total{reason=\"NoNodeFits\"} 2") != std::string::npos);
  RequireLedgerExact(*c, ns);
}

TEST_CASE("cluster truth: a node deleted under a running workload: NodeLost, released") {
  OneNode one;
  auto& c = one.client;
  auto& ns = one.ns;
  const std::string& a = one.node;
  Provider& p = one.provider;
  REQUIRE(Deploy(*p.current, DeployOf("comp.lost", 1000)) == "");
  CHECK(Eventually([&] { return StatusOf(WorkloadOf(*c, ns, "comp.lost"), "nodeName") == a; }));

  c->Delete(kube::resources::kNodes, "", a);
  json w = WaitForPhase(*c, ns, "comp.lost", "Failed");
  CHECK(StatusOf(w, "reason") == "NodeLost");
  CHECK(StatusOf(w, "message") == "node " + a + " was deleted");
  CHECK(!w["status"].contains("admission"));
  CHECK(Eventually([&] { return Capacity(*p.current).used().cpu() == 0; }));
  CHECK(Metrics(p).find("iarnet_workloads_ended_total{reason=\"NodeLost\"} 1") !=
        std::string::npos);
  RequireLedgerExact(*c, ns);
}

TEST_CASE("cluster truth: a node NotReady past the grace ends its workloads with NodeLost") {
  OneNode one;
  auto& c = one.client;
  auto& ns = one.ns;
  auto& pool = one.pool;
  const std::string& a = one.node;
  Provider& p = one.provider;
  REQUIRE(Deploy(*p.current, DeployOf("comp.dark", 1000)) == "");

  // KWOK stops keeping the node alive; its kubelet "reports" NotReady.
  auto went_dark = pool.GoDark(a);
  // Not Ready, the node offers nothing more at once; the workload keeps running for the
  // grace (5 s), then ends.
  CHECK(Eventually([&] { return CpuTotal(p) == 0; }));
  json w = WaitForPhase(*c, ns, "comp.dark", "Failed");
  auto ended = std::chrono::system_clock::now();
  CHECK(StatusOf(w, "reason") == "NodeLost");
  CHECK(StatusOf(w, "message") == "node " + a + " has not been Ready for 5s");
  CHECK(ended - went_dark >= std::chrono::seconds(4));  // never before the grace (1 s for skew)
  CHECK(Eventually([&] { return Capacity(*p.current).used().cpu() == 0; }));
  RequireLedgerExact(*c, ns);
}

TEST_CASE("cluster truth: an API server outage does not count toward a node's NotReady grace") {
  OneNode one;
  auto& c = one.client;
  auto& ns = one.ns;
  auto& pool = one.pool;
  const std::string& a = one.node;
  Provider& p = one.provider;
  REQUIRE(Deploy(*p.current, DeployOf("comp.outage", 1000)) == "");

  pool.GoDark(a);
  REQUIRE(Eventually([&] { return CpuTotal(p) == 0; }));
  // The API server goes away before the grace (5 s) ends, and stays away past it.
  StopComponent("kube-apiserver");
  std::this_thread::sleep_for(std::chrono::seconds(8));
  auto restarting = std::chrono::system_clock::now();  // nothing is served before this
  StartComponent("kube-apiserver");
  json w = WaitForPhase(*c, ns, "comp.outage", "Failed", std::chrono::seconds(90));
  auto ended = std::chrono::system_clock::now();
  CHECK(StatusOf(w, "reason") == "NodeLost");
  // Counted again once the view watches again: a whole grace after the API server
  // came back (1 s for skew), never at once.
  CHECK(ended - restarting >= std::chrono::seconds(4));
  RequireLedgerExact(*c, ns);
}

TEST_CASE("cluster truth: a taint after admission: Unschedulable, the Deploy fails, charge back") {
  OneNode one;
  auto& c = one.client;
  auto& ns = one.ns;
  const std::string& a = one.node;
  Provider& p = one.provider;

  std::string err;
  {
    // No scheduler: the workload is admitted and its Pod created, not bound.
    StoppedScheduler scheduler;
    std::thread deploy([&] { err = Deploy(*p.current, DeployOf("comp.tainted", 1000)); });
    bool created = Eventually([&] {
      return !Absent(*c, kube::resources::kPods, ns, iarnet::WorkloadNameFor("comp.tainted"));
    });
    if (created) {
      REQUIRE(Shell("kubectl taint node " + a + " test=no:NoSchedule >/dev/null") == 0);
    }
    scheduler.Start();
    deploy.join();
    REQUIRE(created);
  }
  INFO(err);
  CHECK(err.find("Unschedulable") != std::string::npos);
  CHECK(err.find("untolerated taint") != std::string::npos);  // the scheduler's words
  // Its workload is gone (a failed Deploy deletes it), its Pod and charge with it.
  CHECK(Eventually([&] { return WorkloadCount(*c, ns) == 0; }));
  CHECK(Eventually([&] {
    return Absent(*c, kube::resources::kPods, ns, iarnet::WorkloadNameFor("comp.tainted"));
  }));
  CHECK(Capacity(*p.current).used().cpu() == 0);
  CHECK(Metrics(p).find("iarnet_workloads_ended_total{reason=\"Unschedulable\"} 1") !=
        std::string::npos);

  // The same for a workload kubectl applied: it ends Failed, reason Unschedulable.
  StoppedScheduler scheduler;
  REQUIRE(Shell("kubectl taint node " + a + " test- >/dev/null") == 0);
  REQUIRE(Eventually([&] { return CpuTotal(p) == 4000; }));
  c->Create(kWorkloads, ns, AppliedWorkload("applied", 1000, 0, ""));
  REQUIRE(Eventually([&] { return !Absent(*c, kube::resources::kPods, ns, "applied"); }));
  REQUIRE(Shell("kubectl taint node " + a + " test=no:NoSchedule >/dev/null") == 0);
  scheduler.Start();
  json w;
  CHECK(Eventually([&] {
    w = c->Get(kWorkloads, ns, "applied");
    return StatusOf(w, "phase") == "Failed";
  }));
  INFO(w.dump());
  CHECK(StatusOf(w, "reason") == "Unschedulable");
  CHECK(!w["status"].contains("admission"));
  RequireLedgerExact(*c, ns);
}

TEST_CASE("cluster truth: GPUs are counted per model and gpuModel is honoured") {
  auto c = AdminClient();
  TestNamespace ns(*c, "truth");
  Pool pool(*c, ns);
  std::string a100 = pool.Add("a100", "8", "16Gi", 2, "A100");
  std::string t4 = pool.Add("t4", "8", "16Gi", 4, "T4");
  Provider p(ns, 0, pool.Config(), "", "cpu: auto, memory: auto, gpu: auto");
  json status;
  REQUIRE(Eventually([&] {
    status = c->Get(kProviders, ns, "iarnet-provider")["status"];
    return status.contains("cluster") && status["cluster"]["gpus"].size() == 2;
  }));
  CHECK(status["cluster"]["gpus"][0] == json{{"model", "A100"}, {"total", 2}, {"free", 2}});
  CHECK(status["cluster"]["gpus"][1] == json{{"model", "T4"}, {"total", 4}, {"free", 4}});
  // auto: the nodes alone decide.
  CHECK(Capacity(*p.current).total().gpu() == 6);
  CHECK(Capacity(*p.current).total().cpu() == 16000);

  c->Create(kWorkloads, ns, AppliedWorkload("on-a100", 500, 1, "A100"));
  json w;
  REQUIRE(Eventually([&] {
    w = c->Get(kWorkloads, ns, "on-a100");
    return StatusOf(w, "phase") == "Running";
  }));
  c->Create(kWorkloads, ns, AppliedWorkload("on-h100", 500, 1, "H100"));
  c->Create(kWorkloads, ns, AppliedWorkload("two-a100", 500, 2, "A100"));
  CHECK(StatusOf(w, "nodeName") == a100);
  json pod = c->Get(kube::resources::kPods, ns, "on-a100");
  CHECK(pod["spec"]["affinity"]["nodeAffinity"].dump().find("A100") != std::string::npos);
  // No H100 anywhere; two A100s are not free on one node any more (one is taken).
  for (const char* name : {"on-h100", "two-a100"}) {
    CHECK(Eventually([&] {
      w = c->Get(kWorkloads, ns, name);
      return StatusOf(w, "phase") == "Rejected";
    }));
    INFO(w.dump());
    CHECK(StatusOf(w, "reason") == "NoNodeFits");
  }
  CHECK(Eventually([&] {
    status = c->Get(kProviders, ns, "iarnet-provider")["status"];
    return status["cluster"]["gpus"][0] == json{{"model", "A100"}, {"total", 2}, {"free", 1}};
  }));
  // Once the A100 is free again, the waiting kubectl workload that wants two gets in.
  c->Delete(kWorkloads, ns, "on-a100");
  CHECK(Eventually([&] {
    w = c->Get(kWorkloads, ns, "two-a100");
    return StatusOf(w, "phase") == "Running";
  }));
  (void)t4;
  RequireLedgerExact(*c, ns);
}

TEST_CASE("cluster truth: 200 concurrent Deploys on a fragmented pool never over-place") {
  auto c = AdminClient();
  TestNamespace ns(*c, "truth");
  Pool pool(*c, ns);
  // 400m each: 2 fit on the first node, 3 on the second, 6 on the third: 11 in all,
  // while the ledger (5 cores) would take 12.
  std::map<std::string, int64_t> allocatable = {{pool.Add("a", "1", "8Gi"), 1000},
                                                {pool.Add("b", "1500m", "8Gi"), 1500},
                                                {pool.Add("c", "2500m", "8Gi"), 2500}};
  Provider p(ns, 0, pool.Config(), "", "cpu: 8000, memory: 64Gi, gpu: 0");
  REQUIRE(Eventually([&] { return CpuTotal(p) == 5000; }));

  std::atomic<int> ok{0}, rejected{0};
  std::mutex mu;
  std::vector<std::string> other_errors;
  std::vector<std::thread> threads;
  for (int i = 0; i < 200; ++i) {
    threads.emplace_back([&, i] {
      std::string err = Deploy(*p.current, DeployOf("comp.f" + std::to_string(i), 400));
      if (err.empty()) {
        ++ok;
      } else if (err.find("NoNodeFits") != std::string::npos ||
                 err.find("InsufficientCapacity") != std::string::npos) {
        ++rejected;
      } else {
        std::lock_guard<std::mutex> lock(mu);
        other_errors.push_back(err);
      }
    });
  }
  for (auto& t : threads) t.join();
  INFO((other_errors.empty() ? "" : other_errors.front()));
  CHECK(other_errors.empty());
  CHECK(ok == 11);
  CHECK(ok + rejected == 200);
  // Every success runs, and no node holds more than its allocatable.
  std::map<std::string, int64_t> placed;
  // The refused Deploys' workloads are deleted (their finalizer goes a moment later).
  CHECK(Eventually([&] { return WorkloadCount(*c, ns) == size_t(ok.load()); }));
  json list = c->ListAll(kWorkloads, ns);
  for (const auto& w : list["items"]) {
    INFO(w.dump());
    CHECK(StatusOf(w, "phase") == "Running");
    placed[StatusOf(w, "nodeName")] += w["spec"]["resources"].value("cpu", 0);
  }
  CHECK(list["items"].size() == size_t(ok.load()));
  for (const auto& [node, cpu] : placed) {
    INFO(node);
    REQUIRE(allocatable.count(node));
    CHECK(cpu <= allocatable[node]);
  }
  RequireLedgerExact(*c, ns);
}

TEST_CASE("cluster truth: capacity.source config keeps the configured capacity") {
  auto c = AdminClient();
  TestNamespace ns(*c, "truth");
  TestNamespace other(*c, "truth-other");
  Pool pool(*c, ns);
  std::string a = pool.Add("a", "4", "8Gi");
  pool.Add("b", "4", "8Gi");
  Provider p(ns, 0, pool.Config(", source: config"), "", "cpu: 8000, memory: 64Gi, gpu: 0");
  CHECK(CpuTotal(p) == 8000);
  c->Create(kube::resources::kPods, other, ForeignPod("foreign", a, "3"));
  // Time for a node view to notice, were there one (it takes well under a second).
  std::this_thread::sleep_for(std::chrono::seconds(3));
  CHECK(CpuTotal(p) == 8000);
  // 6 CPUs: admitted (the ledger has room), then the scheduler finds no node for it.
  std::string err = Deploy(*p.current, DeployOf("comp.six", 6000));
  INFO(err);
  CHECK(err.find("NoNodeFits") == std::string::npos);
  CHECK(err.find("Unschedulable") != std::string::npos);
  json status = c->Get(kProviders, ns, "iarnet-provider")["status"];
  CHECK(!status.contains("cluster"));
  CHECK(Metrics(p).find("iarnet_cluster_") == std::string::npos);
  RequireLedgerExact(*c, ns);
}
