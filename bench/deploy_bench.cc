// Deploy benchmark (issue 8), against the local cluster (KUBECONFIG), the provider built
// alongside. Every figure that matters is a ratio measured in the same run:
//   1. raw Pod creation with the project's client: N Pods, C at a time
//   2. Deploy over gRPC (returns once the component's container runs), N and C the same;
//      ratios to (1)
//   2a. one at a time on the idle cluster (M=50): a raw Pod's creation, the same until it
//      is Running, and a Deploy: what waiting for Running adds, and Deploy like for like
//      against a raw Pod waited until Running
//   3. restart-to-ready with W admitted workloads, the cluster at rest: SIGKILL, start,
//      until the provider is serving (gRPC health SERVING, /readyz) and GetCapacity
//      shows the whole ledger
//   4. the provider's resident set idle and with W workloads cached
//   5. the provider's CPU time per Deploy, pinned to one core
//   6. where the machine's CPU goes: each cluster process's CPU time per raw Pod and per
//      Deploy (on two shared cores, throughput follows the total)
// Prints Markdown tables.
//   deploy_bench [N=2000] [C=16] [W=10000]
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "controller/iarnet_resources.h"
#include "grpc-gateway/provider_client.h"
#include "kube/client.h"
#include "kube/error.h"
#include "kube/informer.h"
#include "resource/provider/provider.pb.h"
#include "tests/support/provider_process.h"
#include "tests/support/support.h"

using Clock = std::chrono::steady_clock;
using Seconds = std::chrono::duration<double>;
namespace pb = resource::provider;
using kube::json;

namespace {

struct Run {
  double seconds = 0;
  std::vector<double> latencies_ms;
  int errors = 0;
  double Throughput() const { return latencies_ms.size() / seconds; }
  double Percentile(double p) {
    std::sort(latencies_ms.begin(), latencies_ms.end());
    if (latencies_ms.empty()) return 0;
    return latencies_ms[std::min(latencies_ms.size() - 1, size_t(p * latencies_ms.size()))];
  }
};

// Runs op(i) for i in [0, n) on `concurrency` threads and times each call.
template <class Op>
Run Measure(int n, int concurrency, Op op) {
  Run run;
  std::mutex mu;
  std::atomic<int> next{0};
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < concurrency; ++t) {
    threads.emplace_back([&] {
      for (int i; (i = next++) < n;) {
        auto t0 = Clock::now();
        bool ok = op(i);
        double ms = Seconds(Clock::now() - t0).count() * 1000;
        std::lock_guard<std::mutex> lock(mu);
        if (ok)
          run.latencies_ms.push_back(ms);
        else
          ++run.errors;
      }
    });
  }
  for (auto& t : threads) t.join();
  run.seconds = Seconds(Clock::now() - start).count();
  return run;
}

json Pod(const std::string& name) {
  json q = {{"cpu", "10m"}, {"memory", "1048576"}};
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", name}, {"labels", {{"bench", "raw"}}}}},
          {"spec",
           {{"restartPolicy", "Never"},
            {"containers", json::array({{{"name", "main"},
                                         {"image", "iarnet/component:python_3.11-latest"},
                                         {"resources", {{"requests", q}, {"limits", q}}}}})}}}};
}

pb::DeployRequest Deploy(const std::string& id) {
  pb::DeployRequest r;
  r.set_instance_id(id);
  r.set_language(common::LANG_PYTHON);
  r.mutable_resource_request()->set_cpu(10);
  r.mutable_resource_request()->set_memory(1 << 20);
  (*r.mutable_env_vars())["COMPONENT_ID"] = id;
  (*r.mutable_env_vars())["ZMQ_ADDR"] = "tcp://host.internal:5555";
  return r;
}

// Raw Pods created one at a time, each waited for until a watch sees it Running: the
// creation's latency and the creation-to-Running latency of each.
struct SequentialRaw {
  Run create, to_running;
};
SequentialRaw RawOneAtATime(kube::Client& admin, const std::string& ns, int m) {
  auto watch_client = testing::AdminClient();  // the watch's I/O apart from the creates
  std::mutex mu;
  std::condition_variable cv;
  std::set<std::string> running;  // guarded by mu
  kube::Informer pods(*watch_client, kube::resources::kPods, ns);
  auto note = [&](const kube::ObjectPtr& pod) {
    if ((*pod)["status"].value("phase", "") != "Running") return;
    std::lock_guard<std::mutex> lock(mu);
    running.insert((*pod)["metadata"].value("name", ""));
    cv.notify_all();
  };
  pods.AddHandlers(
      {note, [&](const kube::ObjectPtr&, const kube::ObjectPtr& pod) { note(pod); }, nullptr});
  pods.Start();
  pods.WaitForSync(std::chrono::seconds(30));
  SequentialRaw out;
  for (int i = 0; i < m; ++i) {
    std::string name = "s" + std::to_string(i);
    auto t0 = Clock::now();
    admin.Create(kube::resources::kPods, ns, Pod(name));
    auto created = Clock::now();
    std::unique_lock<std::mutex> lock(mu);
    bool ran = cv.wait_for(lock, std::chrono::seconds(60), [&] { return running.count(name) > 0; });
    auto now = Clock::now();
    out.create.latencies_ms.push_back(Seconds(created - t0).count() * 1000);
    if (ran) out.to_running.latencies_ms.push_back(Seconds(now - t0).count() * 1000);
  }
  pods.Stop();
  return out;
}

double RssMiB(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024;
  }
  return 0;
}

double CpuSeconds(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), {});
  std::istringstream fields(text.substr(text.rfind(')') + 2));
  std::string f;
  long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14) utime = std::stol(f);
    if (i == 15) stime = std::stol(f);
  }
  return double(utime + stime) / sysconf(_SC_CLK_TCK);
}

void PinToCore(pid_t pid, int core) {
  // Every thread of the process: the tasks under /proc/<pid>/task.
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(core, &set);
  testing::Shell("for t in /proc/" + std::to_string(pid) + "/task/*; do taskset -p -c " +
                 std::to_string(core) + " ${t##*/} >/dev/null; done");
}

int64_t UsedCpu(iarnet::ProviderClient& c) {
  pb::GetCapacityRequest r;
  pb::GetCapacityResponse resp;
  if (!c.Call("GetCapacity", r, &resp, std::chrono::seconds(1)).ok()) return -1;
  return resp.capacity().used().cpu();
}

void Namespace(kube::Client& c, const std::string& name) {
  c.Create(kube::resources::kNamespaces, "",
           {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}});
  testing::Eventually([&] {
    try {
      c.Get(kube::resources::kServiceAccounts, name, "default");
      return true;
    } catch (const kube::Error&) {
      return false;
    }
  });
}

// A count by name: CPU seconds by process, or requests by kind.
using Counts = std::map<std::string, double>;

// after - before, per operation, times `scale`; names below `min_shown` left out.
Counts PerOperation(const Counts& before, const Counts& after, int n, double scale = 1,
                    double min_shown = 0) {
  Counts out;
  for (const auto& [name, v] : after) {
    auto it = before.find(name);
    double d = (v - (it == before.end() ? 0 : it->second)) * scale / n;
    if (d >= min_shown) out[name] = d;
  }
  return out;
}

// CPU seconds used so far by each process that serves a request: the local cluster's
// components (pid files under $IARNET_CLUSTER_DIR/run), the provider and this benchmark.
Counts CpuNow(pid_t provider) {
  Counts out;
  for (const char* name :
       {"kube-apiserver", "etcd", "kube-scheduler", "kube-controller-manager", "kwok"}) {
    std::ifstream pidfile(testing::Env("IARNET_CLUSTER_DIR") + "/run/" + name + ".pid");
    pid_t pid = 0;
    if (pidfile >> pid) out[name] = CpuSeconds(pid);
  }
  if (provider > 0) out["iarnet-k8s-provider"] = CpuSeconds(provider);
  out["benchmark client"] = CpuSeconds(getpid());
  return out;
}
// The API server's own count of the requests it served, by "VERB resource[/sub]"
// (apiserver_request_total), for the requests each operation costs it.
Counts RequestsNow() {
  std::istringstream text(testing::Capture("kubectl get --raw /metrics"));
  auto label = [](const std::string& line, const std::string& name) {
    auto at = line.find(name + "=\"");
    if (at == std::string::npos) return std::string();
    at += name.size() + 2;
    return line.substr(at, line.find('"', at) - at);
  };
  Counts out;
  for (std::string line; std::getline(text, line);) {
    if (line.rfind("apiserver_request_total{", 0) != 0) continue;
    std::string verb = label(line, "verb"), resource = label(line, "resource");
    if (verb == "WATCH" || verb == "CONNECT" || resource.empty()) continue;
    std::string sub = label(line, "subresource");
    out[verb + " " + resource + (sub.empty() ? "" : "/" + sub)] +=
        std::stod(line.substr(line.rfind(' ') + 1));
  }
  return out;
}
// One table of a count per raw Pod and per Deploy, with a bold total over the names
// `in_total` accepts; returns the two totals.
std::pair<double, double> CompareTable(const std::string& column, const Counts& raw,
                                       const Counts& deploy, const std::string& total_name,
                                       const std::function<bool(const std::string&)>& in_total) {
  std::cout << "| " << column << " | per raw Pod | per Deploy |\n|---|---|---|\n";
  Counts names = raw;
  names.insert(deploy.begin(), deploy.end());
  double raw_total = 0, deploy_total = 0;
  char line[200];
  for (const auto& [name, unused] : names) {
    double r = raw.count(name) ? raw.at(name) : 0;
    double d = deploy.count(name) ? deploy.at(name) : 0;
    if (in_total(name)) {
      raw_total += r;
      deploy_total += d;
    }
    std::snprintf(line, sizeof line, "| %s | %.2f | %.2f |\n", name.c_str(), r, d);
    std::cout << line;
  }
  std::snprintf(line, sizeof line, "| **%s** | %.2f | %.2f |\n", total_name.c_str(), raw_total,
                deploy_total);
  std::cout << line;
  return {raw_total, deploy_total};
}

std::string Row(const std::string& what, double value, int decimals = 1) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, value);
  return "| " + what + " | " + buf + " |\n";
}

}  // namespace

int main(int argc, char** argv) {
  int n = argc > 1 ? std::atoi(argv[1]) : 2000;
  int concurrency = argc > 2 ? std::atoi(argv[2]) : 16;
  int w = argc > 3 ? std::atoi(argv[3]) : 10000;
  auto admin = testing::AdminClient();
  std::string suffix = std::to_string(getpid());

  const int m = 50;  // one-at-a-time operations (2a)
  // 2a, raw: one at a time, while the cluster is idle.
  std::string seq_ns = "bench-seq-" + suffix;
  Namespace(*admin, seq_ns);
  SequentialRaw seq_raw = RawOneAtATime(*admin, seq_ns, m);

  // 1. Raw Pod creation.
  std::string raw_ns = "bench-raw-" + suffix;
  Namespace(*admin, raw_ns);
  Counts raw_cpu_before = CpuNow(0);
  Counts raw_requests_before = RequestsNow();
  auto raw_start = Clock::now();
  Run raw = Measure(n, concurrency, [&](int i) {
    try {
      admin->Create(kube::resources::kPods, raw_ns, Pod("p" + std::to_string(i)));
      return true;
    } catch (const kube::Error&) {
      return false;
    }
  });
  // Until the scheduler and KWOK have run every Pod, as a Deploy's Pods are run below.
  testing::Eventually(
      [&] {
        kube::ListOptions o;
        o.field_selector = "status.phase=Running";
        return admin->ListAll(kube::resources::kPods, raw_ns, o)["items"].size() == size_t(n);
      },
      std::chrono::seconds(120));
  double raw_to_running = n / Seconds(Clock::now() - raw_start).count();
  Counts raw_cpu = PerOperation(raw_cpu_before, CpuNow(0), n, 1000);
  Counts raw_requests = PerOperation(raw_requests_before, RequestsNow(), n, 1, 0.005);
  std::cerr << "raw: " << raw.Throughput() << "/s\n";

  // 2 and 5. Deploy over gRPC, the provider pinned to one core.
  std::string ns = "bench-deploy-" + suffix;
  Namespace(*admin, ns);
  int port = testing::FreePort(), http_port = testing::FreePort();
  std::string config =
      "server: {port: " + std::to_string(port) + ", http_port: " + std::to_string(http_port) +
      "}\n" + "kubernetes: {namespace: " + ns + "}\n" +
      "resource: {cpu: 100000000, memory: 1Pi}\n" + "provider: {deploy_timeout: 60s}\n";
  testing::ProviderProcess provider(config, "/tmp/iarnet-bench-" + suffix + ".log");
  provider.Start();
  if (!provider.WaitForLog("gRPC on")) {
    std::cerr << provider.Log();
    return 1;
  }
  PinToCore(provider.pid(), 0);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  double rss_idle = RssMiB(provider.pid());
  iarnet::ProviderClient grpc_client(
      grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials()),
      "resource.provider.Service");
  // 2a, Deploy: one at a time, the cluster idle again (the raw Pods are Running).
  Run seq_deploy;
  for (int i = 0; i < m; ++i) {
    pb::DeployResponse resp;
    auto t0 = Clock::now();
    auto s = grpc_client.Call("Deploy", Deploy("comp.s" + std::to_string(i)), &resp,
                              std::chrono::seconds(120));
    if (s.ok() && resp.error().empty())
      seq_deploy.latencies_ms.push_back(Seconds(Clock::now() - t0).count() * 1000);
  }
  double cpu_before = CpuSeconds(provider.pid());
  Counts deploy_cpu_before = CpuNow(provider.pid());
  Counts deploy_requests_before = RequestsNow();
  auto deploy_start = Clock::now();
  Run deploy = Measure(n, concurrency, [&](int i) {
    pb::DeployResponse resp;
    auto s = grpc_client.Call("Deploy", Deploy("comp.d" + std::to_string(i)), &resp,
                              std::chrono::seconds(120));
    return s.ok() && resp.error().empty();
  });
  double cpu_per_deploy_ms = (CpuSeconds(provider.pid()) - cpu_before) * 1000 / n;
  // Until every workload is Running (its status written), as the raw Pods were.
  testing::Eventually(
      [&] {
        json list = admin->ListAll(iarnet::kWorkloadResource, ns);
        size_t running = 0;
        for (const auto& item : list["items"]) {
          if (item.value("status", json::object()).value("phase", "") == "Running") ++running;
        }
        return running == size_t(n + m);
      },
      std::chrono::seconds(120));
  double deploy_to_running = n / Seconds(Clock::now() - deploy_start).count();
  Counts deploy_cpu = PerOperation(deploy_cpu_before, CpuNow(provider.pid()), n, 1000);
  Counts deploy_requests = PerOperation(deploy_requests_before, RequestsNow(), n, 1, 0.005);
  std::cerr << "deploy: " << deploy.Throughput() << "/s, " << deploy.errors << " errors\n";

  // 3 and 4. W admitted workloads (created directly; the controller admits them).
  Measure(std::max(0, w - n), concurrency, [&](int i) {
    json wl = {{"apiVersion", "iarnet.io/v1alpha1"},
               {"kind", "IarnetWorkload"},
               {"metadata", {{"name", "w" + std::to_string(i)}}},
               {"spec",
                {{"instanceId", "comp.w" + std::to_string(i)},
                 {"language", "python"},
                 {"resources", {{"cpu", 10}, {"memory", 1 << 20}, {"gpu", 0}}}}}};
    try {
      admin->Create(iarnet::kWorkloadResource, ns, wl);
      return true;
    } catch (const kube::Error&) {
      return false;
    }
  });
  int64_t want = int64_t(std::max(w, n) + m) * 10;
  bool admitted =
      testing::Eventually([&] { return UsedCpu(grpc_client) == want; }, std::chrono::seconds(1800));
  // At rest before measuring: every Pod Running, and the provider's work queue idle
  // for two seconds (its last status writes done). Otherwise the restart below would
  // also measure the cluster still working off the burst of 10,000 Pods.
  testing::Eventually(
      [&] {
        kube::ListOptions o;
        o.field_selector = "status.phase!=Running";
        o.limit = 1;
        return admin->List(kube::resources::kPods, ns, o)["items"].empty();
      },
      std::chrono::seconds(600));
  std::string adds, last_adds;
  for (int quiet = 0; quiet < 20;) {  // 20 x 100 ms without a new work item
    adds = testing::Capture("curl -sf http://127.0.0.1:" + std::to_string(http_port) +
                            "/metrics | grep '^workqueue_adds_total'");
    quiet = adds == last_adds ? quiet + 1 : 0;
    last_adds = adds;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  double rss_full = RssMiB(provider.pid());
  provider.Kill(SIGKILL);
  auto restart = Clock::now();
  provider.Start();
  // A fresh channel for each try: a channel that saw the process die backs off before
  // reconnecting, which would be measured instead of the provider.
  std::string address = "127.0.0.1:" + std::to_string(port);
  bool ready = testing::Eventually(
      [&] {
        iarnet::ProviderClient fresh(
            grpc::CreateChannel(address, grpc::InsecureChannelCredentials()),
            "resource.provider.Service");
        // Ready as the issue defines it: serving (gRPC health and /readyz turn together)
        // with the whole ledger.
        return UsedCpu(fresh) == want && testing::Shell("curl -sf -o /dev/null http://127.0.0.1:" +
                                                        std::to_string(http_port) + "/readyz") == 0;
      },
      std::chrono::seconds(120));
  double restart_s = Seconds(Clock::now() - restart).count();
  // What a restart leaves resident: the caches just rebuilt from two large lists.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  double rss_restarted = RssMiB(provider.pid());
  provider.Kill(SIGTERM);

  double p50_ratio = deploy.Percentile(0.5) / raw.Percentile(0.5);
  double p99_ratio = deploy.Percentile(0.99) / raw.Percentile(0.99);
  std::cout << "| measure | value |\n|---|---|\n"
            << Row("N (Pods, and Deploys)", n, 0) << Row("concurrency", concurrency, 0)
            << Row("raw Pod creation: throughput (/s)", raw.Throughput())
            << Row("raw Pod creation: p50 latency (ms)", raw.Percentile(0.5))
            << Row("raw Pod creation: p99 latency (ms)", raw.Percentile(0.99))
            << Row("Deploy over gRPC: throughput (/s)", deploy.Throughput())
            << Row("Deploy over gRPC: p50 latency (ms)", deploy.Percentile(0.5))
            << Row("Deploy over gRPC: p99 latency (ms)", deploy.Percentile(0.99))
            << Row("Deploy errors", deploy.errors, 0)
            << Row("**Deploy / raw throughput** (target >= 0.5)",
                   deploy.Throughput() / raw.Throughput(), 2)
            << Row("Deploy / raw p50 latency", p50_ratio, 2)
            << Row("**Deploy / raw p99 latency** (target <= 2)", p99_ratio, 2)
            << Row("one at a time (M=50): raw Pod creation, p50 latency (ms)",
                   seq_raw.create.Percentile(0.5))
            << Row("one at a time: raw Pod creation until Running, p50 latency (ms)",
                   seq_raw.to_running.Percentile(0.5))
            << Row("one at a time: what waiting for Running adds to a Pod, p50 (ms)",
                   seq_raw.to_running.Percentile(0.5) - seq_raw.create.Percentile(0.5))
            << Row("one at a time: Deploy (answers once Running), p50 latency (ms)",
                   seq_deploy.Percentile(0.5))
            << Row("one at a time: Deploy / raw Pod until Running, p50 latency",
                   seq_deploy.Percentile(0.5) / seq_raw.to_running.Percentile(0.5), 2)
            << Row("one at a time: Deploys answered / M",
                   seq_deploy.latencies_ms.size() / double(m), 2)
            << Row("raw Pods until every one is Running (/s)", raw_to_running)
            << Row("Deploys until every workload is Running (/s)", deploy_to_running)
            << Row("Deploy / raw, until every one is Running", deploy_to_running / raw_to_running,
                   2)
            << Row("provider CPU per Deploy, one core (ms)", cpu_per_deploy_ms, 2)
            << Row("workloads cached for restart and memory", std::max(w, n), 0)
            << Row("all admitted before the restart (1 = yes)", admitted ? 1 : 0, 0)
            << Row("**restart-to-ready, SIGKILL to serving with the ledger (s)** (target <= 3)",
                   ready ? restart_s : -1, 2)
            << Row("provider RSS idle (MiB)", rss_idle)
            << Row("**provider RSS with the workloads cached (MiB)** (target <= 40)", rss_full)
            << Row("provider RSS 2 s after the restart, same workloads (MiB)", rss_restarted);
  std::cout << "\nCPU time per operation by process, from the start of the requests until every "
               "Pod (raw) or workload (Deploy) is Running (ms):\n\n";
  auto [raw_total, deploy_total] =
      CompareTable("process", raw_cpu, deploy_cpu, "all", [](const std::string&) { return true; });
  std::printf("\n**Deploy / raw CPU per operation, whole machine: %.2f**\n",
              deploy_total / raw_total);
  // Every request the API server served in each phase (the benchmark's own polling of
  // the Running count included: a LIST every 100 ms or so).
  std::cout << "\nAPI requests per operation, as the API server counted them "
               "(apiserver_request_total, watches excluded):\n\n";
  CompareTable("request", raw_requests, deploy_requests, "writes", [](const std::string& k) {
    return k.rfind("GET ", 0) != 0 && k.rfind("LIST ", 0) != 0;
  });
  admin->Delete(kube::resources::kNamespaces, "", raw_ns);
  admin->Delete(kube::resources::kNamespaces, "", seq_ns);
  return 0;
}
