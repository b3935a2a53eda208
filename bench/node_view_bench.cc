// Node view benchmark: what the cluster-wide Node and Pod caches of capacity.source
// nodes cost in memory, and what node-fit admission adds to each admission decision,
// against the local cluster (KUBECONFIG). Ratios are measured in the same run:
//   node view heap / full-Pod cache heap   what the reduction to requests saves
//   node-fit decision / ledger-only one     the extra CPU per admission
//
//   node_view_bench [nodes=1000] [pods=50000] [workloads=10000]
//
// The nodes are plain Node objects (no KWOK: 1,000 heartbeating nodes would load the
// machine more than the measurement); the Pods are bound to them and tolerate every
// taint, so the node lifecycle controller's NotReady taints evict none of them.
#include <malloc.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <thread>

#include "bench/process_memory.h"
#include "controller/ledger_book.h"
#include "controller/node_fit.h"
#include "controller/node_view.h"
#include "kube/client.h"
#include "kube/error.h"
#include "kube/informer.h"
#include "kube/log.h"

using namespace kube;
using Seconds = std::chrono::duration<double>;

namespace {

const char* const kBenchLabel = "iarnet.io/node-view-bench";

using bench::HeapInUse;
using bench::RssBytes;

json Node(const std::string& name) {
  return {{"apiVersion", "v1"},
          {"kind", "Node"},
          {"metadata",
           {{"name", name},
            {"labels",
             {{kBenchLabel, "true"},
              {"kubernetes.io/hostname", name},
              {"kubernetes.io/os", "linux"},
              {"kubernetes.io/arch", "amd64"},
              {"topology.kubernetes.io/zone", "zone-" + name.substr(name.size() - 1)}}}}}};
}

json NodeStatus() {
  json r = {{"cpu", "64"}, {"memory", "256Gi"}, {"pods", "110"}, {"nvidia.com/gpu", "0"}};
  return {{"status",
           {{"capacity", r},
            {"allocatable", r},
            {"conditions", json::array({{{"type", "Ready"},
                                         {"status", "True"},
                                         {"reason", "KubeletReady"},
                                         {"lastHeartbeatTime", "2026-12-01T00:00:00Z"},
                                         {"lastTransitionTime", "2026-12-01T00:00:00Z"}}})}}}};
}

// A Pod as a typical Deployment makes it: labels, an owner, env, a volume, probes.
json Pod(const std::string& name, const std::string& node, int i) {
  return {
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata",
       {{"name", name},
        {"labels",
         {{"app", "shop-" + std::to_string(i % 40)}, {"pod-template-hash", "5d8f7c9b4d"}}}}},
      {"spec",
       {{"nodeName", node},
        {"tolerations", json::array({{{"operator", "Exists"}}})},
        {"containers",
         json::array({{{"name", "app"},
                       {"image", "registry.example/shop/app:1.4." + std::to_string(i % 9)},
                       {"env", json::array({{{"name", "MODE"}, {"value", "production"}},
                                            {{"name", "PORT"}, {"value", "8080"}}})},
                       {"ports", json::array({{{"containerPort", 8080}}})},
                       {"readinessProbe", {{"httpGet", {{"path", "/ready"}, {"port", 8080}}}}},
                       {"volumeMounts", json::array({{{"name", "data"}, {"mountPath", "/data"}}})},
                       {"resources",
                        {{"requests", {{"cpu", "100m"}, {"memory", "128Mi"}}},
                         {"limits", {{"cpu", "500m"}, {"memory", "256Mi"}}}}}}})},
        {"volumes", json::array({{{"name", "data"}, {"emptyDir", json::object()}}})}}}};
}

// Runs `n` calls of `f(i)` on 8 threads, retrying transient errors.
template <class F>
void InParallel(int n, F f) {
  std::atomic<int> next{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < 8; ++w) {
    threads.emplace_back([&] {
      for (int i; (i = next++) < n;) {
        for (int attempt = 0;; ++attempt) {
          try {
            f(i);
            break;
          } catch (const Error& e) {
            if (e.IsAlreadyExists()) break;
            if (!e.IsTransient() || attempt > 20) throw;
          }
        }
      }
    });
  }
  for (auto& t : threads) t.join();
}

// Per decision: microseconds of `decide`, run `rounds` times.
template <class F>
double MicrosEach(int rounds, F decide) {
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < rounds; ++i) decide(i);
  return Seconds(std::chrono::steady_clock::now() - start).count() * 1e6 / rounds;
}

}  // namespace

int main(int argc, char** argv) {
  SetLogLevel(LogLevel::kWarning);
  const int nodes = argc > 1 ? std::atoi(argv[1]) : 1000;
  const int pods = argc > 2 ? std::atoi(argv[2]) : 50000;
  const int workloads = argc > 3 ? std::atoi(argv[3]) : 10000;
  const char* kubeconfig = std::getenv("KUBECONFIG");
  Client client(LoadKubeconfig(kubeconfig ? kubeconfig : ""));
  std::string ns = "bench-nodes-" + std::to_string(std::random_device{}() % 100000);
  client.Create(resources::kNamespaces, "",
                {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}});

  auto node_name = [](int i) { return "nvb-" + std::to_string(i); };
  auto start = std::chrono::steady_clock::now();
  InParallel(nodes, [&](int i) { client.Create(resources::kNodes, "", Node(node_name(i))); });
  PatchOptions status;
  status.subresource = "status";
  InParallel(nodes, [&](int i) {
    client.Patch(resources::kNodes, "", node_name(i), PatchType::kStrategicMerge, NodeStatus(),
                 status);
  });
  InParallel(pods, [&](int i) {
    client.Create(resources::kPods, ns, Pod("p-" + std::to_string(i), node_name(i % nodes), i));
  });
  double create_s = Seconds(std::chrono::steady_clock::now() - start).count();

  // Memory: the node view (both informers, reduced and packed, and the book), then the
  // same Pods cached whole as DOM, as an informer without the transform keeps them.
  size_t heap0 = HeapInUse(), rss0 = RssBytes();
  double sync_s = 0;
  size_t view_heap = 0, view_rss = 0, seen_pods = 0, seen_nodes = 0;
  iarnet::NodeViewOptions options;
  options.namespace_ = "iarnet-bench-ours";
  auto view = std::make_unique<iarnet::NodeView>(client, options);
  {
    auto t0 = std::chrono::steady_clock::now();
    view->Start();
    if (!view->WaitForSync(std::chrono::minutes(5))) {
      std::fprintf(stderr, "the node view did not sync\n");
      return 1;
    }
    sync_s = Seconds(std::chrono::steady_clock::now() - t0).count();
    view_heap = HeapInUse() - heap0;
    view_rss = RssBytes() - rss0;
    seen_pods = view->pod_count();
    seen_nodes = view->node_count();
  }
  size_t dom_heap = 0;
  {
    size_t before = HeapInUse();
    Informer::Options o;
    o.watch.page_size = 0;
    Informer whole(client, resources::kPods, "", o);
    whole.Start();
    whole.WaitForSync(std::chrono::minutes(5));
    dom_heap = HeapInUse() - before;
    whole.Stop();
  }

  // CPU per admission decision: what the controller does under its admission lock, with
  // and without the node view, against `workloads` admitted workloads (a tenth of them
  // not bound yet, so first fit has work to do).
  iarnet::LedgerBook book;
  for (int i = 0; i < workloads; ++i) {
    book.Observe("ours/w-" + std::to_string(i), uint64_t(i + 1),
                 iarnet::Resources{100, 128 << 20, 0}, false);
  }
  const iarnet::Resources capacity{1 << 30, int64_t{1} << 50, 0};
  const iarnet::Resources request{100, 128 << 20, 0};
  const int rounds = 200;
  double ledger_us = MicrosEach(rounds, [&](int) {
    iarnet::Ledger l = book.Compute(capacity, true);
    (void)iarnet::Admit(l, request);
  });
  double fit_us = MicrosEach(rounds, [&](int) {
    iarnet::Ledger l = book.Compute(capacity, true);
    (void)iarnet::Admit(l, request);
    std::vector<iarnet::Room> rooms = view->Rooms();
    std::vector<iarnet::Resources> pending = book.ChargesExcept([&](const std::string& k) {
      return k.size() % 10 != 0 || view->Bound(k);  // ~a tenth pending
    });
    (void)iarnet::FitNode(std::move(rooms), pending, request, "");
  });
  view->Stop();
  view.reset();

  // Clean up: the Pods with their namespace, the nodes by label.
  client.Delete(resources::kNamespaces, "", ns);
  InParallel(nodes, [&](int i) {
    try {
      client.Delete(resources::kNodes, "", node_name(i));
    } catch (const Error& e) {
      if (!e.IsNotFound()) throw;
    }
  });

  double per_pod = double(view_heap) / double(std::max<size_t>(1, seen_pods));
  std::printf("| measure | value |\n|---|---|\n");
  std::printf("| nodes / Pods in the cluster (ours: none) | %d / %d |\n", nodes, pods);
  std::printf("| nodes / Pods in the node view after sync | %zu / %zu |\n", seen_nodes, seen_pods);
  std::printf("| creating them (8 writers) | %.0f s |\n", create_s);
  std::printf("| node view: first list of both into the cache | %.1f s |\n", sync_s);
  std::printf("| node view heap (nodes + Pods + per-node sums) | %.1f MiB |\n",
              view_heap / 1048576.0);
  std::printf("| node view RSS growth | %.1f MiB |\n", view_rss / 1048576.0);
  std::printf("| node view heap per Pod (nodes included) | %.0f bytes |\n", per_pod);
  std::printf("| the same Pods cached whole as DOM | %.1f MiB |\n", dom_heap / 1048576.0);
  std::printf("| node view heap / whole-Pod DOM cache | %.3f |\n",
              double(view_heap) / double(std::max<size_t>(1, dom_heap)));
  std::printf("| admission decision, ledger only (%d workloads) | %.2f us |\n", workloads,
              ledger_us);
  std::printf("| admission decision with node fit (%d nodes) | %.0f us |\n", nodes, fit_us);
  std::printf("| node-fit decision / ledger-only decision | %.1f |\n", fit_us / ledger_us);
  std::printf("| extra CPU per admission (node fit) | %.2f ms |\n", (fit_us - ledger_us) / 1000);
  return 0;
}
