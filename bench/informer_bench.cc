// Informer benchmark: memory per 1,000 cached objects and watch event throughput,
// against the local cluster (KUBECONFIG). Ratios are measured in the same run, since
// absolute times on a shared machine mislead:
//   memory / serialized size   what the cache costs per byte of JSON it holds
//   events seen / writes made  whether the watch keeps up with 8 concurrent writers
//
//   informer_bench [objects=2000]
#include <malloc.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <thread>

#include "bench/process_memory.h"
#include "kube/client.h"
#include "kube/error.h"
#include "kube/informer.h"
#include "kube/log.h"

using namespace kube;
using Seconds = std::chrono::duration<double>;

namespace {

const ResourceType kWorkloads{"iarnet.io", "v1alpha1", "iarnetworkloads", "IarnetWorkload", true};

using bench::HeapInUse;
using bench::RssBytes;

json Workload(const std::string& name, int i) {
  return {{"apiVersion", "iarnet.io/v1alpha1"},
          {"kind", "IarnetWorkload"},
          {"metadata",
           {{"name", name},
            {"labels", {{"iarnet.managed", "true"}, {"iarnet.provider_id", "provider.bench"}}}}},
          {"spec",
           {{"instanceId", "comp." + name},
            {"language", "python"},
            {"providerId", "provider.bench"},
            {"resources", {{"cpu", 100 + i % 7}, {"memory", 134217728}, {"gpu", 0}}},
            {"env", json::array({{{"name", "COMPONENT_ID"}, {"value", "comp." + name}},
                                 {{"name", "ZMQ_ADDR"}, {"value", "host.internal:5555"}},
                                 {{"name", "STORE_ADDR"}, {"value", "host.internal:6666"}},
                                 {{"name", "LOGGER_ADDR"}, {"value", "host.internal:7777"}}})}}}};
}

}  // namespace

int main(int argc, char** argv) {
  SetLogLevel(LogLevel::kWarning);
  const int n = argc > 1 ? std::atoi(argv[1]) : 2000;
  const int writers = 8;
  const char* kubeconfig = std::getenv("KUBECONFIG");
  Client client(LoadKubeconfig(kubeconfig ? kubeconfig : ""));
  std::string ns = "bench-informer-" + std::to_string(std::random_device{}() % 100000);
  client.Create(resources::kNamespaces, "",
                {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}});

  // 1. Watch throughput: an informer watches while 8 writers create n objects.
  Informer watching(client, kWorkloads, ns);
  std::atomic<int> seen{0};
  std::atomic<int64_t> last_seen_ns{0};
  watching.AddHandlers({[&](const ObjectPtr&) {
                          ++seen;
                          last_seen_ns =
                              std::chrono::steady_clock::now().time_since_epoch().count();
                        },
                        nullptr, nullptr});
  watching.Start();
  watching.WaitForSync(std::chrono::seconds(30));
  auto start = std::chrono::steady_clock::now();
  std::atomic<int> next{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&] {
      for (int i; (i = next++) < n;) {
        for (;;) {
          try {
            client.Create(kWorkloads, ns, Workload("w-" + std::to_string(i), i));
            break;
          } catch (const Error& e) {
            if (!e.IsTransient()) throw;
          }
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  auto writes_done = std::chrono::steady_clock::now();
  while (seen < n && std::chrono::steady_clock::now() - writes_done < std::chrono::seconds(60)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  auto last_seen = std::chrono::steady_clock::time_point(
      std::chrono::steady_clock::duration(last_seen_ns.load()));
  double write_s = Seconds(writes_done - start).count();
  double watch_s = Seconds(last_seen - start).count();
  double lag_ms = std::max(0.0, Seconds(last_seen - writes_done).count() * 1000);
  watching.Stop();

  // 2. Memory: a fresh informer lists and caches the n objects.
  json list = client.ListAll(kWorkloads, ns);
  size_t serialized = 0;
  for (auto& item : list["items"]) {
    item["metadata"].erase("managedFields");  // the informer drops them too
    serialized += item.dump().size();
  }
  list = json();
  // The same list cached as DOM (the default) and packed (Options::compact).
  struct CacheCost {
    size_t objects = 0;
    double heap = 0, rss = 0, list_s = 0;
  };
  auto measure = [&](Informer::Options options) {
    CacheCost cost;
    size_t heap_before = HeapInUse(), rss_before = RssBytes();
    auto cached = std::make_unique<Informer>(client, kWorkloads, ns, options);
    auto list_start = std::chrono::steady_clock::now();
    cached->Start();
    cached->WaitForSync(std::chrono::seconds(60));
    cost.list_s = Seconds(std::chrono::steady_clock::now() - list_start).count();
    size_t heap_after = HeapInUse(), rss_after = RssBytes();
    cost.objects = cached->Size();
    cost.heap = double(heap_after) - double(heap_before);
    cost.rss = double(rss_after > rss_before ? rss_after - rss_before : 0);
    cached->Stop();
    return cost;
  };
  CacheCost dom = measure({});
  Informer::Options compact;
  compact.compact = true;
  CacheCost packed = measure(compact);
  size_t objects = dom.objects;
  double list_s = dom.list_s;

  client.Delete(resources::kNamespaces, "", ns);

  double heap_per_1000 = dom.heap / double(objects) * 1000;
  double rss_per_1000 = dom.rss / double(objects) * 1000;
  double packed_per_1000 = packed.heap / double(packed.objects) * 1000;
  double json_per_1000 = double(serialized) / double(objects) * 1000;
  std::printf("| measure | value |\n|---|---|\n");
  std::printf("| objects (IarnetWorkload, 4 env vars, labels) | %zu |\n", objects);
  std::printf("| writers | %d |\n", writers);
  std::printf("| writes/s (8 concurrent creates) | %.0f |\n", n / write_s);
  std::printf("| watch events/s seen by the informer | %.0f |\n", seen.load() / watch_s);
  std::printf("| events seen / writes made | %d / %d |\n", seen.load(), n);
  std::printf("| watch throughput / write throughput | %.2f |\n",
              (seen.load() / watch_s) / (n / write_s));
  std::printf("| lag of the last event after the last write | %.0f ms |\n", lag_ms);
  std::printf("| initial list into the cache (pages of 500) | %.0f objects/s |\n",
              objects / list_s);
  std::printf("| cache heap per 1,000 objects | %.2f MiB |\n", heap_per_1000 / (1 << 20));
  std::printf("| cache RSS growth per 1,000 objects | %.2f MiB |\n", rss_per_1000 / (1 << 20));
  std::printf("| serialized JSON per 1,000 objects | %.2f MiB |\n", json_per_1000 / (1 << 20));
  std::printf("| cache heap / serialized JSON | %.2f |\n", heap_per_1000 / json_per_1000);
  std::printf("| packed cache (Options::compact) heap per 1,000 objects | %.2f MiB |\n",
              packed_per_1000 / (1 << 20));
  std::printf("| packed cache heap / serialized JSON | %.2f |\n", packed_per_1000 / json_per_1000);
  return seen.load() == n ? 0 : 1;
}
