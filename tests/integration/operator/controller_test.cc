// The workload controller against the local cluster: admission, rejection, release,
// concurrency, and Pods ending. Every test checks that the provider's ledger equals the
// sum of the admission records and that the Pods match them.
#include <atomic>
#include <catch2/catch.hpp>
#include <set>
#include <thread>

#include "controller/caches.h"
#include "controller/workload_controller.h"
#include "kube/error.h"
#include "tests/support/support.h"
#include "tests/support/workload_census.h"

using namespace iarnet;
using kube::json;
using testing::Count;
using testing::kProviders;
using testing::kWorkloads;
using testing::LedgerExact;
using testing::NewWorkload;
using testing::PhaseOf;
using testing::TestNamespace;

namespace {

CachesOptions Options(const std::string& ns, int64_t cpu) {
  CachesOptions o;
  o.namespace_ = ns;
  o.provider_spec.capacity = {cpu, 1LL << 40, 0};
  o.provider_spec.languages = {{Language::kPython, "iarnet/component:python_3.11-latest"}};
  o.provider_spec.host_aliases = {{"10.0.0.1", {"host.internal"}}};
  return o;
}

// The shared caches and the reconciler, started as a single replica starts them.
struct Operator {
  Caches caches;
  WorkloadController controller;
  Operator(kube::Client& c, const std::string& ns, int64_t cpu)
      : caches(c, Options(ns, cpu)), controller(c, caches, {}) {
    caches.Start();
    controller.StartReconciling();
  }
  void Stop() {
    controller.Stop();
    caches.Stop();
  }
};

std::set<std::string> EventReasons(kube::Client& c, const std::string& ns,
                                   const std::string& name) {
  kube::ListOptions o;
  o.field_selector = "involvedObject.name=" + name + ",involvedObject.kind=IarnetWorkload";
  std::set<std::string> out;
  json events = c.List(kube::resources::kEvents, ns, o)["items"];
  for (auto& e : events) out.insert(e["reason"].get<std::string>());
  return out;
}

}  // namespace

TEST_CASE(
    "controller: admission up to exactly the total and rejection past it and release on delete") {
  auto c = testing::AdminClient();
  TestNamespace ns(*c);
  Operator op(*c, ns, 1000);
  for (int i = 0; i < 4; ++i) c->Create(kWorkloads, ns, NewWorkload("w" + std::to_string(i), 250));
  REQUIRE(testing::Eventually([&] {
    auto k = Count(*c, ns);
    return k.admitted == 4 && k.pods == 4 && LedgerExact(k);
  }));
  for (int i = 0; i < 4; ++i) {
    CHECK(
        testing::Eventually([&] { return PhaseOf(*c, ns, "w" + std::to_string(i)) == "Running"; }));
  }
  json pod = c->Get(kube::resources::kPods, ns, "w0");
  CHECK(pod["metadata"]["labels"]["iarnet.instance_id"] == "comp.w0");
  CHECK(pod["metadata"]["labels"]["iarnet.managed"] == "true");
  CHECK(pod["metadata"]["ownerReferences"][0]["kind"] == "IarnetWorkload");
  CHECK(pod["spec"]["containers"][0]["resources"]["limits"]["cpu"] == "250m");
  CHECK(pod["spec"]["hostAliases"][0]["hostnames"][0] == "host.internal");

  // Events tell the story of each workload.
  CHECK(testing::Eventually([&] {
    auto reasons = EventReasons(*c, ns, "w1");
    return reasons.count("Admitted") == 1;
  }));

  c->Create(kWorkloads, ns, NewWorkload("over", 1));
  REQUIRE(testing::Eventually([&] { return PhaseOf(*c, ns, "over") == "Rejected"; }));
  CHECK(testing::Eventually([&] { return EventReasons(*c, ns, "over").count("Rejected") == 1; }));
  json over = c->Get(kWorkloads, ns, "over");
  CHECK(over["status"]["reason"] == "InsufficientCapacity");
  CHECK(std::string(over["status"]["message"]).find("available cpu 0") != std::string::npos);
  CHECK_FALSE(over["status"].contains("admission"));
  CHECK(LedgerExact(Count(*c, ns)));

  // Deleting one releases its 250m: the pod goes, the finalizer goes, and the rejected
  // workload is admitted in its place.
  c->Delete(kWorkloads, ns, "w0");
  REQUIRE(testing::Eventually([&] {
    try {
      c->Get(kWorkloads, ns, "w0");
      return false;
    } catch (const kube::Error& e) {
      return e.IsNotFound();
    }
  }));
  CHECK(testing::Eventually([&] { return PhaseOf(*c, ns, "over") == "Running"; }));
  CHECK(testing::Eventually([&] {
    auto k = Count(*c, ns);
    return k.admitted == 4 && k.pods == 4 && LedgerExact(k);
  }));
  op.Stop();
}

TEST_CASE("controller: 200 workloads created concurrently against capacity for 100") {
  auto c = testing::AdminClient();
  TestNamespace ns(*c);
  Operator op(*c, ns, 1000);
  std::vector<std::thread> writers;
  for (int t = 0; t < 8; ++t) {
    writers.emplace_back([&, t] {
      for (int i = t; i < 200; i += 8)
        c->Create(kWorkloads, ns, NewWorkload("w" + std::to_string(i), 10));
    });
  }
  for (auto& t : writers) t.join();
  REQUIRE(testing::Eventually(
      [&] {
        auto k = Count(*c, ns);
        return k.admitted + k.rejected == 200 && k.pods == k.admitted;
      },
      std::chrono::seconds(120)));
  auto k = Count(*c, ns);
  CHECK(k.admitted == 100);
  CHECK(k.rejected == 100);
  CHECK(k.charged.cpu == 1000);
  CHECK(testing::Eventually([&] { return LedgerExact(Count(*c, ns)); }));
  op.Stop();
}

TEST_CASE("controller: a Pod that succeeds or fails or is deleted gives its capacity back") {
  auto c = testing::AdminClient();
  TestNamespace ns(*c);
  Operator op(*c, ns, 1000);
  for (auto name : {"ok", "bad", "gone"}) c->Create(kWorkloads, ns, NewWorkload(name, 300));
  REQUIRE(testing::Eventually([&] {
    return PhaseOf(*c, ns, "ok") == "Running" && PhaseOf(*c, ns, "bad") == "Running" &&
           PhaseOf(*c, ns, "gone") == "Running";
  }));
  c->Patch(kube::resources::kPods, ns, "ok", kube::PatchType::kMerge,
           {{"metadata", {{"annotations", {{"iarnet.io/simulate-exit", "Succeeded"}}}}}});
  c->Patch(kube::resources::kPods, ns, "bad", kube::PatchType::kMerge,
           {{"metadata",
             {{"annotations",
               {{"iarnet.io/simulate-exit", "Failed"},
                {"iarnet.io/simulate-exit-code", "137"},
                {"iarnet.io/simulate-exit-reason", "OOMKilled"}}}}}});
  c->Delete(kube::resources::kPods, ns, "gone");
  REQUIRE(testing::Eventually([&] {
    return PhaseOf(*c, ns, "ok") == "Succeeded" && PhaseOf(*c, ns, "bad") == "Failed" &&
           PhaseOf(*c, ns, "gone") == "Failed";
  }));
  json bad = c->Get(kWorkloads, ns, "bad");
  CHECK(bad["status"]["reason"] == "OOMKilled");
  CHECK(bad["status"]["exitCode"] == 137);
  CHECK(c->Get(kWorkloads, ns, "gone")["status"]["reason"] == "PodDeleted");
  CHECK(c->Get(kWorkloads, ns, "ok")["status"]["reason"] == "PodSucceeded");
  CHECK(testing::Eventually([&] {
    auto k = Count(*c, ns);
    return k.admitted == 0 && k.ledger_used.cpu == 0 && LedgerExact(k);
  }));
  // The deleted Pod is not recreated.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  CHECK_THROWS_AS(c->Get(kube::resources::kPods, ns, "gone"), kube::Error);
  op.Stop();
}

TEST_CASE("controller: a language without an image is rejected and nothing is charged") {
  auto c = testing::AdminClient();
  TestNamespace ns(*c);
  Operator op(*c, ns, 1000);
  c->Create(kWorkloads, ns, NewWorkload("gopher", 100, "go"));
  REQUIRE(testing::Eventually([&] { return PhaseOf(*c, ns, "gopher") == "Rejected"; }));
  json w = c->Get(kWorkloads, ns, "gopher");
  CHECK(w["status"]["reason"] == "UnsupportedLanguage");
  CHECK(w["status"]["message"] == "unsupported language \"go\": this provider runs python");
  auto k = Count(*c, ns);
  CHECK(k.admitted == 0);
  CHECK(k.pods == 0);
  op.Stop();
}

TEST_CASE(
    "controller: Pods with iarnet labels but no owning workload are neither counted nor touched") {
  auto c = testing::AdminClient();
  TestNamespace ns(*c);
  json foreign = {
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata",
       {{"name", "stray"},
        {"labels", {{"iarnet.managed", "true"}, {"iarnet.instance_id", "comp.stray"}}}}},
      {"spec",
       {{"containers", json::array({{{"name", "main"},
                                     {"image", "x"},
                                     {"resources", {{"limits", {{"cpu", "900m"}}}}}}})}}}};
  REQUIRE(testing::Eventually([&] {
    c->Create(kube::resources::kPods, ns, foreign);
    return true;
  }));
  json before = c->Get(kube::resources::kPods, ns, "stray");
  Operator op(*c, ns, 1000);
  c->Create(kWorkloads, ns, NewWorkload("mine", 1000));
  REQUIRE(testing::Eventually([&] { return PhaseOf(*c, ns, "mine") == "Running"; }));
  json after = c->Get(kube::resources::kPods, ns, "stray");
  CHECK_FALSE(after["metadata"].contains("ownerReferences"));
  CHECK_FALSE(after["metadata"].contains("deletionTimestamp"));
  CHECK(after["metadata"]["labels"] == before["metadata"]["labels"]);
  CHECK(testing::Eventually(
      [&] { return LedgerExact(Count(*c, ns)) && Count(*c, ns).ledger_used.cpu == 1000; }));
  op.Stop();
}

TEST_CASE("controller: lowering the total below what is used evicts nothing and admits nothing") {
  auto c = testing::AdminClient();
  TestNamespace ns(*c);
  Operator op(*c, ns, 1000);
  for (auto name : {"a", "b"}) c->Create(kWorkloads, ns, NewWorkload(name, 400));
  REQUIRE(testing::Eventually(
      [&] { return PhaseOf(*c, ns, "a") == "Running" && PhaseOf(*c, ns, "b") == "Running"; }));
  c->Patch(kProviders, ns, "iarnet-provider", kube::PatchType::kMerge,
           {{"spec", {{"capacity", {{"cpu", 500}}}}}});
  auto ledger = [&] { return c->Get(kProviders, ns, "iarnet-provider")["status"]["ledger"]; };
  REQUIRE(testing::Eventually([&] { return ledger()["total"]["cpu"] == 500; }));
  CHECK(ledger()["used"]["cpu"] == 800);
  CHECK(ledger()["available"]["cpu"] == 0);  // never negative
  c->Create(kWorkloads, ns, NewWorkload("late", 1));
  REQUIRE(testing::Eventually([&] { return PhaseOf(*c, ns, "late") == "Rejected"; }));
  // Nothing was evicted.
  CHECK(PhaseOf(*c, ns, "a") == "Running");
  CHECK(PhaseOf(*c, ns, "b") == "Running");
  CHECK_NOTHROW(c->Get(kube::resources::kPods, ns, "a"));
  CHECK_NOTHROW(c->Get(kube::resources::kPods, ns, "b"));
  // Raising it again admits the waiting workload.
  c->Patch(kProviders, ns, "iarnet-provider", kube::PatchType::kMerge,
           {{"spec", {{"capacity", {{"cpu", 1000}}}}}});
  CHECK(testing::Eventually([&] { return PhaseOf(*c, ns, "late") == "Running"; }));
  CHECK(testing::Eventually([&] { return LedgerExact(Count(*c, ns)); }));
  op.Stop();
}

TEST_CASE(
    "controller: a waiting workload is looked at again only when room may grow, and "
    "rewritten only when its reason changes") {
  auto c = testing::AdminClient();
  TestNamespace ns(*c);
  std::atomic<int> reconciles{0};
  ControllerOptions options;
  options.on_reconcile = [&](double, const std::string&) { ++reconciles; };
  Caches caches(*c, Options(ns, 1000));
  WorkloadController controller(*c, caches, options);
  caches.Start();
  controller.StartReconciling();
  c->Create(kWorkloads, ns, NewWorkload("a", 800));
  REQUIRE(testing::Eventually([&] { return PhaseOf(*c, ns, "a") == "Running"; }));
  c->Create(kWorkloads, ns, NewWorkload("late", 400));
  REQUIRE(testing::Eventually([&] { return PhaseOf(*c, ns, "late") == "Rejected"; }));
  auto late = [&] { return c->Get(kWorkloads, ns, "late"); };
  std::string version = late()["metadata"]["resourceVersion"];
  std::string message = late()["status"]["message"];
  CHECK(message.find("available cpu 200m") != std::string::npos);

  // Quiet first: no reconcile for a second.
  int before = -1;
  REQUIRE(testing::Eventually(
      [&] {
        int now = reconciles;
        bool quiet = now == before;
        before = now;
        return quiet;
      },
      std::chrono::seconds(30), std::chrono::seconds(1)));
  // The provider's status changes (as each ledger write changes it): nothing to look at.
  for (int i = 0; i < 5; ++i) {
    kube::PatchOptions o;
    o.subresource = "status";
    c->Patch(kProviders, ns, "iarnet-provider", kube::PatchType::kMerge,
             {{"status", {{"display", {{"largest", "probe " + std::to_string(i)}}}}}}, o);
  }
  REQUIRE(testing::Eventually([&] {
    auto p = caches.providers().Get(ns, "iarnet-provider");
    return p && (*p)["status"]["display"].value("largest", "") == "probe 4";
  }));
  // The handlers run right after the cache has the object, on the same thread.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  CHECK(reconciles == before);

  // More room, still not enough: looked at again, and its record stands as it was.
  c->Patch(kProviders, ns, "iarnet-provider", kube::PatchType::kMerge,
           {{"spec", {{"capacity", {{"cpu", 1100}}}}}});
  REQUIRE(testing::Eventually([&] { return reconciles > before; }));
  REQUIRE(testing::Eventually([&] {
    return c->Get(kProviders, ns, "iarnet-provider")["status"]["ledger"]["total"]["cpu"] == 1100;
  }));
  CHECK(late()["metadata"]["resourceVersion"] == version);
  CHECK(late()["status"]["message"] == message);
  CHECK(EventReasons(*c, ns, "late") == std::set<std::string>{"Rejected"});

  // Enough: admitted.
  c->Patch(kProviders, ns, "iarnet-provider", kube::PatchType::kMerge,
           {{"spec", {{"capacity", {{"cpu", 1200}}}}}});
  CHECK(testing::Eventually([&] { return PhaseOf(*c, ns, "late") == "Running"; }));
  CHECK(testing::Eventually([&] { return LedgerExact(Count(*c, ns)); }));
  controller.Stop();
  caches.Stop();
}

TEST_CASE("controller: a replica whose term as leader has ended writes nothing until it leads") {
  auto c = testing::AdminClient();
  TestNamespace ns(*c);
  std::atomic<bool> leading{false};
  Caches caches(*c, Options(ns, 1000));
  ControllerOptions o;
  o.may_write = [&leading] { return leading.load(); };
  WorkloadController controller(*c, caches, o);
  caches.Start();
  controller.StartReconciling();
  c->Create(kWorkloads, ns, NewWorkload("w", 100));
  // The controller took the workload up and was refused its first write (the finalizer)
  // three times: nothing of it reached the API server.
  REQUIRE(testing::Eventually([&] { return controller.queue().stats().retries >= 3; }));
  json w = c->Get(kWorkloads, ns, "w");
  CHECK_FALSE(w["metadata"].contains("finalizers"));
  CHECK_FALSE(w.contains("status"));
  CHECK(c->List(kube::resources::kPods, ns)["items"].empty());
  // Leading again, it carries on from the records.
  leading = true;
  CHECK(testing::Eventually([&] {
    auto k = Count(*c, ns);
    return k.admitted == 1 && k.pods == 1 && LedgerExact(k);
  }));
  controller.Stop();
  caches.Stop();
}
