// On the local cluster's real node (kubelet + containerd, hack/lib/real-node.sh): what
// only real containers prove. A workload's limits reach its cgroup; a component that
// exits, runs out of memory or cannot pull its image ends its workload with the reason
// and gives its capacity back; real-time usage comes from metrics-server, else the
// kubelet summary, else the requests, and says which.
#include <catch2/catch.hpp>
#include <fstream>
#include <future>
#include <regex>
#include <thread>

#include "api/names.h"
#include "controller/usage_sources.h"
#include "kube/error.h"
#include "tests/support/control_plane.h"
#include "tests/support/support.h"
#include "tests/support/workload_census.h"

using namespace testing;
using kube::json;

namespace {

const std::string kRealNode = "iarnet-real-0";
const std::string kTestImage = "iarnet.local/testbox:1";
// The test image runs `sh -c "$IARNET_TEST_RUN"` (default: sleep).
const std::string kRunVar = "IARNET_TEST_RUN";
const std::string kBusy = "while :; do :; done";

std::string Kubectl(const std::string& args) { return Capture("kubectl " + args); }
std::string LocalCluster(const std::string& args) {
  return Capture(Env("IARNET_SOURCE_DIR") + "/hack/local-cluster.sh " + args + " 2>&1");
}

// While alive, new Pods can only land on the real node: the simulated nodes are cordoned
// and the real node's taint is lifted (the other tests' thousands of Pods must never
// reach it). Both are put back on the way out, even when the test fails.
//
// The API server's word is not enough: the scheduler learns of the cordons through its
// Node watch, which lags on a loaded machine and, after a test restarted the API server,
// comes back with backoff (a Pod created meanwhile landed on a simulated node). So the
// constructor last labels the real node with a token and waits until a probe Pod that
// selects the token is bound: the scheduler's Node watch delivers updates in order, so
// once it saw the label it saw the cordons and the lifted taint before it.
class OnlyRealNode {
 public:
  OnlyRealNode(kube::Client& c, const std::string& ns) {
    Kubectl("cordon -l iarnet.io/simulated-node=true");
    Kubectl("taint nodes " + kRealNode + " iarnet.io/real-node- 2>/dev/null || true");
    Kubectl("label nodes " + kRealNode + " " + kProbeLabel + "=" + ns + " --overwrite");
    std::string node;
    try {
      node = ProbeBinding(c, ns);
    } catch (...) {
      Restore();  // a constructor that throws runs no destructor
      throw;
    }
    INFO("the scheduler's probe Pod was bound to '" << node << "'");
    if (node != kRealNode) Restore();
    REQUIRE(node == kRealNode);
  }
  ~OnlyRealNode() { Restore(); }

 private:
  static constexpr const char* kProbeLabel = "iarnet.io/scheduler-probe";

  // Creates a Pod selecting the token and returns the node it is bound to ("" if the
  // scheduler never binds it within 3 minutes); deletes the Pod.
  static std::string ProbeBinding(kube::Client& c, const std::string& ns) {
    json probe = {{"apiVersion", "v1"},
                  {"kind", "Pod"},
                  {"metadata", {{"name", "scheduler-probe"}}},
                  {"spec",
                   {{"restartPolicy", "Never"},
                    {"terminationGracePeriodSeconds", 0},
                    {"nodeSelector", {{kProbeLabel, ns}}},
                    {"containers", {{{"name", "main"}, {"image", kTestImage}}}}}}};
    // Retried: a namespace this new may not have its default ServiceAccount yet.
    Eventually([&] {
      try {
        c.Create(kube::resources::kPods, ns, probe);
      } catch (const kube::Error& e) {
        if (!e.IsAlreadyExists()) throw;
      }
      return true;
    });
    // Bound, and then Running where it was bound: the node the tests get has shown it
    // starts containers (a kubelet that is slow to start the first one after a quiet
    // spell is paid for here, not by a test's Deploy).
    std::string node;
    Eventually(
        [&] {
          json pod = c.Get(kube::resources::kPods, ns, "scheduler-probe");
          node = pod["spec"].value("nodeName", "");
          return !node.empty() &&
                 (node != kRealNode || pod["status"].value("phase", "") == "Running");
        },
        std::chrono::minutes(3));
    c.Delete(kube::resources::kPods, ns, "scheduler-probe");
    return node;
  }

  static void Restore() {
    Shell("kubectl label nodes " + kRealNode + " " + kProbeLabel + "- >/dev/null");
    Shell("kubectl taint nodes " + kRealNode +
          " iarnet.io/real-node=true:NoSchedule --overwrite >/dev/null");
    Shell("kubectl uncordon -l iarnet.io/simulated-node=true >/dev/null");
  }
};

// A provider whose python image is the test image, giving up unpullable images after 5 s.
// `provider_keys`: more of the provider section, each key preceded by ", ".
std::unique_ptr<Provider> RealNodeProvider(const std::string& ns, int64_t cpu,
                                           const std::string& provider_keys = "") {
  return std::make_unique<Provider>(ns, cpu,
                                    "provider: {languages: {python: " + kTestImage +
                                        "}, image_pull_timeout: 5s" + provider_keys + "}\n");
}

// What each test starts from: a namespace, only the real node schedulable, a provider.
struct OnRealNode {
  std::unique_ptr<kube::Client> c = AdminClient();
  TestNamespace ns{*c, "real"};
  OnlyRealNode real{*c, ns};
  std::unique_ptr<Provider> p = RealNodeProvider(ns, 4000);
};

pb::DeployRequest Component(const std::string& id, int64_t cpu, int64_t memory,
                            const std::string& run = "") {
  auto r = DeployOf(id, cpu);
  r.mutable_resource_request()->set_memory(memory);
  if (!run.empty()) (*r.mutable_env_vars())[kRunVar] = run;
  return r;
}

json Workload(kube::Client& c, const std::string& ns, const std::string& id) {
  return c.Get(kWorkloads, ns, iarnet::WorkloadNameFor(id));
}

// Waits until the instance's workload has `phase`; returns it.
json WaitForPhase(kube::Client& c, const std::string& ns, const std::string& id,
                  const std::string& phase,
                  std::chrono::seconds timeout = std::chrono::seconds(60)) {
  json w;
  bool reached = Eventually(
      [&] {
        w = Workload(c, ns, id);
        return w.value("status", json::object()).value("phase", "") == phase;
      },
      timeout);
  INFO("workload " << id << ": " << w.dump());
  REQUIRE(reached);
  return w;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::string s;
  std::getline(in, s);
  return s;
}

// The cgroup directory of a Pod in one v1 hierarchy (cgroupfs driver: kubepods/
// [burstable|besteffort/]pod<uid>).
std::string PodCgroup(const std::string& hierarchy, const std::string& uid) {
  return Capture("find /sys/fs/cgroup/" + hierarchy + " -maxdepth 4 -type d -name 'pod" + uid +
                 "' | head -1");
}

int64_t Used(iarnet::ProviderClient& c) { return Capacity(c).used().cpu(); }

json RestUsage(const Provider& p) {
  return json::parse(Capture("curl -sf " + p.RestBase() + "/v1/usage"));
}

// A Pod on the real node that no workload owns, labelled like ours.
json ForeignPod(const std::string& name) {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata",
           {{"name", name},
            {"labels", {{"iarnet.managed", "true"}, {"iarnet.provider_id", "provider.real"}}}}},
          {"spec",
           {{"restartPolicy", "Never"},
            {"containers",
             {{{"name", "main"},
               {"image", kTestImage},
               {"env", {{{"name", kRunVar}, {"value", kBusy}}}},
               {"resources",
                {{"limits", {{"cpu", "100m"}, {"memory", "32Mi"}}},
                 {"requests", {{"cpu", "100m"}, {"memory", "32Mi"}}}}}}}}}}};
}

// The sum of the PodMetrics of `names` in `ns`, straight from the metrics API.
iarnet::Resources PodMetricsSum(kube::Client& c, const std::string& ns,
                                const std::vector<std::string>& names, size_t* found = nullptr) {
  json list = c.CallSync({"GET", "/apis/metrics.k8s.io/v1beta1/namespaces/" + ns + "/pods", "", "",
                          "list PodMetrics"});
  auto usage = std::get<iarnet::MeasuredUsage>(iarnet::UsageFromPodMetrics(list));
  iarnet::Resources sum;
  size_t n = 0;
  for (const auto& name : names) {
    if (!usage.count(name)) continue;
    ++n;
    sum.cpu += usage[name].cpu;
    sum.memory += usage[name].memory;
  }
  if (found) *found = n;
  return sum;
}

// The sum of the Prometheus series in `text` that start with `series` and carry every
// one of `labels` (e.g. `verb="LIST"`).
double MetricValue(const std::string& text, const std::string& series,
                   const std::vector<std::string>& labels = {}) {
  std::istringstream in(text);
  std::string line;
  double total = 0;
  while (std::getline(in, line)) {
    if (line.rfind(series, 0) != 0) continue;
    bool all = true;
    for (const auto& l : labels) all = all && line.find(l) != std::string::npos;
    if (all) total += std::stod(line.substr(line.rfind(' ') + 1));
  }
  return total;
}

// The LIST requests for PodMetrics that metrics-server itself has served (the API server
// proxies them without counting), read from its /metrics with the admin certificate.
double ServedPodMetricsLists() {
  std::string address = Kubectl(
      "-n kube-system get endpointslices -l kubernetes.io/service-name=metrics-server -o "
      "jsonpath='{.items[0].endpoints[0].addresses[0]}:{.items[0].ports[0].port}'");
  std::string pki = Env("IARNET_CLUSTER_DIR") + "/pki";
  std::string text = Capture("curl -sfk --cert " + pki + "/admin.crt --key " + pki +
                             "/admin.key https://" + address + "/metrics");
  return MetricValue(text, "apiserver_request_total{",
                     {"group=\"metrics.k8s.io\"", "resource=\"pods\"", "verb=\"LIST\""});
}

}  // namespace

TEST_CASE_METHOD(
    OnRealNode,
    "real node: a workload's Pod gets exactly its cpu quota and memory limit in its cgroup") {
  REQUIRE(Deploy(*p->current, Component("comp.cgroup", 250, 64 << 20)) == "");
  WaitForPhase(*c, ns, "comp.cgroup", "Running");
  json pod = PodOf(*c, ns, "comp.cgroup");
  CHECK(pod["spec"]["nodeName"] == kRealNode);
  std::string uid = pod["metadata"]["uid"];
  std::string container = pod["status"]["containerStatuses"][0]["containerID"];
  container = container.substr(container.find("://") + 3);

  std::string cpu = PodCgroup("cpu", uid), memory = PodCgroup("memory", uid);
  INFO("cpu cgroup " << cpu << ", memory cgroup " << memory);
  REQUIRE_FALSE(cpu.empty());
  REQUIRE_FALSE(memory.empty());
  CHECK(ReadFile(cpu + "/cpu.cfs_period_us") == "100000");
  CHECK(ReadFile(cpu + "/cpu.cfs_quota_us") == "25000");  // 250m
  CHECK(ReadFile(memory + "/memory.limit_in_bytes") == std::to_string(64 << 20));
  // The container's own cgroup, inside the Pod's, has the same limits.
  CHECK(ReadFile(cpu + "/" + container + "/cpu.cfs_quota_us") == "25000");
  CHECK(ReadFile(memory + "/" + container + "/memory.limit_in_bytes") == std::to_string(64 << 20));

  CHECK(Undeploy(*p->current, "comp.cgroup") == "");
  CHECK(Eventually([&] { return Used(*p->current) == 0; }));  // once its cache has it
  CHECK(Eventually([&] { return PodCgroup("cpu", uid).empty(); }, std::chrono::seconds(60)));
  RequireLedgerExact(*c, ns);
}

// A line of /proc/PID/status ("Uid:\t65534\t..." -> "65534\t..."), "" if absent.
std::string StatusField(const std::string& pid, const std::string& field) {
  std::ifstream in("/proc/" + pid + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(field + ":", 0) == 0) {
      auto value = line.find_first_not_of(" \t", field.size() + 1);
      return value == std::string::npos ? "" : line.substr(value);
    }
  }
  return "";
}

TEST_CASE("real node: a component runs with no API token, no privileges, as the configured user") {
  auto c = AdminClient();
  TestNamespace ns(*c, "real");
  OnlyRealNode real(*c, ns);
  auto p = RealNodeProvider(ns, 4000, ", component_user: 65534");
  REQUIRE(Deploy(*p->current, Component("comp.confined", 200, 32 << 20)) == "");
  json pod = PodOf(*c, ns, "comp.confined");
  std::string container = pod["status"]["containerStatuses"][0]["containerID"];
  container = container.substr(container.find("://") + 3);
  std::string uid = pod["metadata"]["uid"];
  std::string cgroup = PodCgroup("cpu", uid);
  REQUIRE_FALSE(cgroup.empty());
  // The container's first process, as the kernel sees it.
  std::string pid = Capture("head -1 " + cgroup + "/" + container + "/cgroup.procs");
  INFO("container " << container << ", process " << pid);
  REQUIRE_FALSE(pid.empty());
  CHECK(StatusField(pid, "Uid") == "65534\t65534\t65534\t65534");
  CHECK(StatusField(pid, "Gid") == "65534\t65534\t65534\t65534");
  CHECK(StatusField(pid, "CapEff") == "0000000000000000");
  CHECK(StatusField(pid, "CapBnd") == "0000000000000000");
  CHECK(StatusField(pid, "NoNewPrivs") == "1");
  CHECK(StatusField(pid, "Seccomp") == "2");  // a filter: the runtime's default profile
  // No ServiceAccount token anywhere a client library would look for one.
  CHECK(Capture("ls /proc/" + pid + "/root/var/run/secrets/kubernetes.io 2>/dev/null || true")
            .empty());
  CHECK(Undeploy(*p->current, "comp.confined") == "");
  CHECK(Eventually([&] { return Used(*p->current) == 0; }));
  RequireLedgerExact(*c, ns);
}

TEST_CASE_METHOD(
    OnRealNode,
    "real node: a component that exits non-zero fails its workload with the exit code") {
  // Running when Deploy answers (the kubelet reports it within a second), it ends later.
  REQUIRE(Deploy(*p->current, Component("comp.exit", 300, 32 << 20, "sleep 5; exit 3")) == "");
  CHECK(Used(*p->current) == 300);
  json w = WaitForPhase(*c, ns, "comp.exit", "Failed");
  CHECK(w["status"]["exitCode"] == 3);
  CHECK(w["status"]["reason"] == "Error");
  CHECK(w["status"]["message"].get<std::string>().find("exit code 3") != std::string::npos);
  CHECK_FALSE(w["status"].contains("admission"));
  CHECK(Eventually([&] { return Used(*p->current) == 0; }));  // its capacity returns
  RequireLedgerExact(*c, ns);
}

TEST_CASE_METHOD(OnRealNode, "real node: Deploy of a component that exits at once returns why") {
  std::string error = Deploy(*p->current, Component("comp.quick", 300, 32 << 20, "exit 3"));
  INFO(error);
  if (error.empty()) {
    // The kubelet's first report raced the exit and said Running (its status sync can
    // land in the millisecond the shell ran): Deploy answers on what the kubelet
    // reports, so the workload then fails with the exit code right after.
    WARN("the kubelet reported comp.quick Running before its exit");
    json w = WaitForPhase(*c, ns, "comp.quick", "Failed");
    CHECK(w["status"]["exitCode"] == 3);
  } else {
    CHECK(error.find("instance comp.quick cannot run: its container exited with code 3") !=
          std::string::npos);
    // Reported as failed, it leaves nothing behind.
    CHECK(Eventually(
        [&] { return Absent(*c, kWorkloads, ns, iarnet::WorkloadNameFor("comp.quick")); }));
  }
  CHECK(Eventually([&] { return Used(*p->current) == 0; }));
  RequireLedgerExact(*c, ns);
}

TEST_CASE_METHOD(OnRealNode, "real node: a component over its memory limit is reported OOMKilled") {
  // dd's 256 MiB buffer is touched at once: far over the 32 MiB limit. It starts after a
  // while, so Deploy has answered success (a component killed at once fails its Deploy).
  REQUIRE(Deploy(*p->current, Component("comp.oom", 200, 32 << 20,
                                        "sleep 3; dd if=/dev/zero of=/dev/null bs=256M count=1")) ==
          "");
  json w = WaitForPhase(*c, ns, "comp.oom", "Failed");
  CHECK(w["status"]["reason"] == "OOMKilled");
  CHECK(w["status"]["exitCode"] == 137);
  CHECK(Eventually([&] { return Used(*p->current) == 0; }));
  RequireLedgerExact(*c, ns);
}

TEST_CASE_METHOD(OnRealNode,
                 "real node: Deploy of an image that cannot be pulled returns the pull error") {
  auto r = Component("comp.noimage", 400, 32 << 20);
  r.clear_language();
  r.set_image("iarnet.local/does-not-exist:1");  // the older control planes' image field
  std::string error = Deploy(*p->current, r);
  INFO(error);
  // At once (not after image_pull_timeout), with the kubelet's words.
  CHECK(error.find("instance comp.noimage cannot run: ") != std::string::npos);
  CHECK((error.find("ErrImagePull") != std::string::npos ||
         error.find("ImagePullBackOff") != std::string::npos));
  CHECK(error.find("iarnet.local/does-not-exist:1") != std::string::npos);
  CHECK(Eventually([&] {
    kube::ListOptions o;
    o.label_selector = "iarnet.managed=true";
    return c->ListAll(kube::resources::kPods, ns, o)["items"].empty() &&
           c->ListAll(kWorkloads, ns)["items"].empty();
  }));
  CHECK(Eventually([&] { return Used(*p->current) == 0; }));
  RequireLedgerExact(*c, ns);
}

TEST_CASE_METHOD(
    OnRealNode,
    "real node: an applied workload whose image cannot be pulled is freed after the timeout") {
  // kubectl's or GitOps' workload: nobody waits on it, so it keeps its charge until
  // provider.image_pull_timeout (5 s here), with the pull error in its status meanwhile.
  json manifest = NewWorkload("noimage", 400);
  manifest["spec"].erase("language");
  manifest["spec"]["image"] = "iarnet.local/does-not-exist:1";
  manifest["spec"]["resources"]["memory"] = 32 << 20;  // a real Pod's sandbox needs room
  c->Create(kWorkloads, ns, manifest);
  json w;
  bool reported = Eventually([&] {
    w = c->Get(kWorkloads, ns, "noimage");
    std::string reason = w.value("status", json::object()).value("reason", "");
    return reason == "ErrImagePull" || reason == "ImagePullBackOff";
  });
  INFO(w.dump());
  REQUIRE(reported);
  CHECK(w["status"]["phase"] == "Admitted");
  CHECK(w["status"]["message"].get<std::string>().find("iarnet.local/does-not-exist:1") !=
        std::string::npos);         // the pull error, as the kubelet says it
  CHECK(Used(*p->current) == 400);  // held until the timeout

  REQUIRE(Eventually(
      [&] {
        w = c->Get(kWorkloads, ns, "noimage");
        return w.value("status", json::object()).value("phase", "") == "Failed";
      },
      std::chrono::seconds(30)));
  CHECK(w["status"]["message"].get<std::string>().find("could not be pulled within 5s") !=
        std::string::npos);
  CHECK(Eventually([&] { return Used(*p->current) == 0; }));  // once its cache has it
  CHECK(Eventually([&] {
    kube::ListOptions o;
    o.label_selector = "iarnet.managed=true";
    return c->ListAll(kube::resources::kPods, ns, o)["items"].empty();
  }));
  RequireLedgerExact(*c, ns);
}

TEST_CASE("real node: real-time usage from metrics-server, the kubelet summary, then requests") {
  auto c = AdminClient();
  TestNamespace ns(*c, "usage");
  TestNamespace other(*c, "usage-other");
  OnlyRealNode real(*c, ns);
  auto p = RealNodeProvider(ns, 4000);

  // Two busy components of ours; a labelled Pod no workload owns in the same namespace
  // and one in another namespace, also busy, which must never count.
  REQUIRE(Deploy(*p->current, Component("comp.busy1", 100, 32 << 20, kBusy)) == "");
  REQUIRE(Deploy(*p->current, Component("comp.busy2", 150, 48 << 20, kBusy)) == "");
  c->Create(kube::resources::kPods, ns, ForeignPod("foreign"));
  c->Create(kube::resources::kPods, other, ForeignPod("elsewhere"));
  WaitForPhase(*c, ns, "comp.busy1", "Running");
  WaitForPhase(*c, ns, "comp.busy2", "Running");
  std::vector<std::string> ours = {iarnet::WorkloadNameFor("comp.busy1"),
                                   iarnet::WorkloadNameFor("comp.busy2")};
  REQUIRE(Eventually(
      [&] {
        size_t a = 0, b = 0, f = 0;
        try {
          bool busy = PodMetricsSum(*c, ns, ours, &a).cpu > 0 &&
                      PodMetricsSum(*c, ns, {"foreign"}, &f).cpu > 0 &&
                      PodMetricsSum(*c, other, {"elsewhere"}, &b).cpu > 0;
          return busy && a == 2;
        } catch (const std::exception&) {
          return false;  // metrics-server has no sample yet
        }
      },
      std::chrono::seconds(120)));

  {  // The metrics API: the sum of our Pods' PodMetrics, foreign Pods ignored.
    json report;
    iarnet::Resources expected;
    bool equal = Eventually(
        [&] {
          report = RestUsage(*p);
          expected = PodMetricsSum(*c, ns, ours);
          return report["total"]["cpu"] == expected.cpu &&
                 report["total"]["memory"] == expected.memory;
        },
        std::chrono::seconds(60));
    INFO(report.dump() << " expected cpu " << expected.cpu << " memory " << expected.memory);
    CHECK(equal);
    CHECK(report["source"] == "metrics-api");
    CHECK(report["workloads"].size() == 2);
    CHECK_FALSE(report.contains("fallbackReason"));
    // gRPC answers from the same report.
    pb::GetRealTimeUsageRequest request;
    pb::GetRealTimeUsageResponse response;
    REQUIRE(p->current->Call("GetRealTimeUsage", request, &response).ok());
    CHECK(response.usage().cpu() > 0);
    CHECK(response.usage().memory() > 0);
    std::string metrics = Capture("curl -sf " + p->RestBase() + "/metrics");
    CHECK(MetricValue(metrics, "iarnet_usage_source{source=\"metrics-api\"}") == 1);

    // Many callers at once: at most one upstream call per second.
    double upstream_before =
        MetricValue(metrics, "iarnet_usage_upstream_requests_total{source=\"metrics-api\"}");
    double served_before = ServedPodMetricsLists();
    std::atomic<int> calls{0}, failures{0};
    auto started = std::chrono::steady_clock::now();
    std::vector<std::thread> callers;
    for (int i = 0; i < 32; ++i) {
      callers.emplace_back([&] {
        while (std::chrono::steady_clock::now() - started < std::chrono::seconds(5)) {
          pb::GetRealTimeUsageResponse r;
          if (p->current->Call("GetRealTimeUsage", request, &r).ok() && r.usage().cpu() > 0)
            ++calls;
          else
            ++failures;
        }
      });
    }
    for (auto& t : callers) t.join();
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::string after = Capture("curl -sf " + p->RestBase() + "/metrics");
    double upstream =
        MetricValue(after, "iarnet_usage_upstream_requests_total{source=\"metrics-api\"}") -
        upstream_before;
    double served = ServedPodMetricsLists() - served_before;
    INFO(calls << " calls in " << seconds << " s: " << upstream << " upstream calls counted by the "
               << "provider, " << served << " PodMetrics lists served by metrics-server");
    CHECK(failures == 0);
    CHECK(calls > 100);
    CHECK(upstream <= seconds + 1);
    CHECK(served == upstream);  // nobody else asked meanwhile
    CHECK(served <= seconds + 1);
  }

  {  // The metrics API removed: the kubelet summary serves and says so.
    LocalCluster("metrics-api off");
    struct Restore {
      ~Restore() { Shell(Env("IARNET_SOURCE_DIR") + "/hack/local-cluster.sh metrics-api on"); }
    } restore;
    json report;
    REQUIRE(Eventually([&] {
      report = RestUsage(*p);
      return report["source"] == "kubelet-summary";
    }));
    INFO(report.dump());
    CHECK(report["fallbackReason"].get<std::string>().find("metrics API") != std::string::npos);
    CHECK(report["workloads"].size() == 2);
    // What the kubelet says of our two Pods, by the same arithmetic.
    iarnet::Resources expected;
    bool equal = Eventually(
        [&] {
          report = RestUsage(*p);
          json summary = c->CallSync({"GET", "/api/v1/nodes/" + kRealNode + "/proxy/stats/summary",
                                      "", "", "get summary"});
          auto m = std::get<iarnet::MeasuredUsage>(iarnet::UsageFromSummary(summary, ns));
          expected = {m[ours[0]].cpu + m[ours[1]].cpu, m[ours[0]].memory + m[ours[1]].memory, 0};
          return report["total"]["cpu"] == expected.cpu &&
                 report["total"]["memory"] == expected.memory && expected.cpu > 0;
        },
        std::chrono::seconds(60));
    INFO(report.dump() << " expected cpu " << expected.cpu << " memory " << expected.memory);
    CHECK(equal);
    std::string metrics = Capture("curl -sf " + p->RestBase() + "/metrics");
    CHECK(MetricValue(metrics, "iarnet_usage_source{source=\"kubelet-summary\"}") == 1);
    CHECK(MetricValue(metrics, "iarnet_usage_source{source=\"metrics-api\"}") == 0);
    CHECK(p->process->WaitForLog("usage source is now kubelet-summary", std::chrono::seconds(1)));

    {  // And with the kubelet down too: the requests of the Running Pods.
      StopComponent("kubelet");
      struct Restart {
        ~Restart() { StartComponent("kubelet"); }
      } restart;
      REQUIRE(Eventually([&] {
        report = RestUsage(*p);
        return report["source"] == "requests";
      }));
      INFO(report.dump());
      CHECK(report["total"]["cpu"] == 250);
      CHECK(report["total"]["memory"] == (32 + 48) << 20);
      CHECK(report["fallbackReason"].get<std::string>().find("kubelet summary") !=
            std::string::npos);
      CHECK(p->process->WaitForLog("usage source is now requests", std::chrono::seconds(1)));
    }
  }
}
