// Watches and informers against the real API server, including its restart and an etcd
// compaction that forces 410 Gone.
#include <atomic>
#include <catch2/catch.hpp>
#include <future>
#include <map>
#include <mutex>
#include <thread>

#include "kube/base64.h"
#include "kube/error.h"
#include "kube/informer.h"
#include "tests/support/support.h"

using namespace kube;
using testing::TestNamespace;

namespace {

// name -> resourceVersion, from the informer's cache or from a fresh list.
std::map<std::string, std::string> Versions(const std::vector<ObjectPtr>& objects) {
  std::map<std::string, std::string> out;
  for (auto& o : objects) out[(*o)["metadata"]["name"]] = (*o)["metadata"]["resourceVersion"];
  return out;
}
std::map<std::string, std::string> FreshList(Client& c, const std::string& ns) {
  std::vector<ObjectPtr> items;
  json list = c.ListAll(resources::kConfigMaps, ns);
  for (auto& i : list["items"]) items.push_back(std::make_shared<json>(i));
  return Versions(items);
}

// Records what the handlers saw, to check nothing was delivered twice.
struct Log {
  std::mutex mu;
  std::map<std::string, std::vector<std::string>> versions;  // name -> versions delivered
  std::set<std::string> deleted;
  Informer::Handlers Handlers() {
    auto seen = [this](const ObjectPtr& o) {
      std::lock_guard<std::mutex> l(mu);
      versions[(*o)["metadata"]["name"]].push_back((*o)["metadata"]["resourceVersion"]);
    };
    return {seen, [seen](const ObjectPtr&, const ObjectPtr& o) { seen(o); },
            [this](const ObjectPtr& o) {
              std::lock_guard<std::mutex> l(mu);
              deleted.insert((*o)["metadata"]["name"]);
            }};
  }
  // Each object's versions strictly increase: no event delivered twice or out of order.
  bool NoDuplicates() {
    std::lock_guard<std::mutex> l(mu);
    for (auto& [name, vs] : versions) {
      for (size_t i = 1; i < vs.size(); ++i) {
        if (std::stoull(vs[i]) <= std::stoull(vs[i - 1])) return false;
      }
    }
    return true;
  }
};

// An informer on a namespace's ConfigMaps that retries quickly, with a handler log,
// started and synced.
struct WatchedConfigMaps {
  static Informer::Options FastRetry() {
    Informer::Options o;
    o.watch.backoff.initial = std::chrono::milliseconds(200);
    return o;
  }
  WatchedConfigMaps(Client& c, const std::string& ns)
      : inf(c, resources::kConfigMaps, ns, FastRetry()) {
    inf.AddHandlers(log.Handlers());
    inf.Start();
    REQUIRE(inf.WaitForSync(std::chrono::seconds(10)));
  }
  ~WatchedConfigMaps() { inf.Stop(); }
  Log log;
  Informer inf;
};

std::string Etcd(const std::string& method, const json& body) {
  std::string url = "http://127.0.0.1:" + testing::Env("IARNET_ETCD_PORT") + "/v3/" + method;
  return testing::Capture("curl -sf -X POST " + url + " -d '" + body.dump() + "'");
}

}  // namespace

TEST_CASE("informer: list then watch with handlers and label index and sync") {
  auto c = testing::AdminClient();
  TestNamespace ns(*c);
  c->Create(resources::kConfigMaps, ns, testing::ConfigMap("before", {}, {{"team", "a"}}));
  Informer::Options o;
  o.index_labels = {"team"};
  Informer inf(*c, resources::kConfigMaps, ns, o);
  Log log;
  std::atomic<int> adds{0}, updates{0};
  inf.AddHandlers(log.Handlers());
  inf.AddHandlers({[&](const ObjectPtr&) { ++adds; },
                   [&](const ObjectPtr&, const ObjectPtr&) { ++updates; }, nullptr});
  CHECK_FALSE(inf.HasSynced());
  inf.Start();
  REQUIRE(inf.WaitForSync(std::chrono::seconds(10)));
  CHECK(inf.Get(ns, "before") != nullptr);
  CHECK((*inf.Get(ns, "before"))["kind"] == "ConfigMap");

  c->Create(resources::kConfigMaps, ns, testing::ConfigMap("after", {}, {{"team", "b"}}));
  REQUIRE(testing::Eventually([&] { return inf.Get(ns, "after") != nullptr; },
                              std::chrono::seconds(10)));
  CHECK(inf.ByLabel("team", "a").size() == 1);
  CHECK(inf.ByLabel("team", "b").size() == 1);
  c->Patch(resources::kConfigMaps, ns, "after", PatchType::kMerge,
           {{"metadata", {{"labels", {{"team", "a"}}}}}});
  REQUIRE(testing::Eventually([&] { return inf.ByLabel("team", "a").size() == 2; },
                              std::chrono::seconds(10)));
  CHECK(inf.ByLabel("team", "b").empty());
  CHECK_FALSE((*inf.Get(ns, "after"))["metadata"].contains("managedFields"));
  c->Delete(resources::kConfigMaps, ns, "before");
  REQUIRE(testing::Eventually([&] { return inf.Get(ns, "before") == nullptr; },
                              std::chrono::seconds(10)));
  CHECK(log.deleted.count("before") == 1);
  CHECK(adds >= 3);  // kube-root-ca.crt, before, after
  CHECK(updates >= 1);
  CHECK(Versions(inf.List()) == FreshList(*c, ns));
  CHECK(log.NoDuplicates());
  inf.Stop();
}

TEST_CASE("informer: a list read in small pages or in one answer fills the same cache") {
  auto c = testing::AdminClient();
  TestNamespace ns(*c);
  for (int i = 0; i < 7; ++i)
    c->Create(resources::kConfigMaps, ns, testing::ConfigMap("cm-" + std::to_string(i)));
  for (int64_t page_size : {2, 0}) {
    INFO("page size " << page_size);
    Informer::Options o;
    o.watch.page_size = page_size;
    o.compact = true;
    Informer inf(*c, resources::kConfigMaps, ns, o);
    std::atomic<int> adds{0};
    inf.AddHandlers({[&](const ObjectPtr&) { ++adds; }, nullptr, nullptr});
    inf.Start();
    REQUIRE(inf.WaitForSync(std::chrono::seconds(10)));
    CHECK(adds == 8);  // the seven and kube-root-ca.crt, each once, all before sync
    CHECK(inf.watch_stats().lists == 1);
    CHECK(Versions(inf.List()) == FreshList(*c, ns));
    CHECK((*inf.Get(ns, "cm-6"))["kind"] == "ConfigMap");
    inf.Stop();
  }
}

TEST_CASE("informer: a write of ours assumed into the cache before its watch event") {
  auto c = testing::AdminClient();
  TestNamespace ns(*c);
  Informer::Options o;
  o.compact = true;
  Informer inf(*c, resources::kConfigMaps, ns, o);
  Log log;
  std::atomic<int> adds{0}, updates{0};
  inf.AddHandlers(log.Handlers());
  inf.AddHandlers(
      {[&](const ObjectPtr& p) { adds += (*p)["metadata"]["name"] == "mine"; },
       [&](const ObjectPtr&, const ObjectPtr& p) { updates += (*p)["metadata"]["name"] == "mine"; },
       nullptr});
  // The watch thread is held inside the handler for "gate" while "mine" is written and
  // assumed, so the assume always comes before the watch event, however fast the watch is.
  // That thread is also the informer client's I/O thread: the writes go through another.
  auto w = testing::AdminClient();
  std::promise<void> entered, release;
  std::shared_future<void> released = release.get_future().share();
  struct Opener {  // a failed REQUIRE must not leave the watch thread held (Stop would hang)
    std::promise<void>& p;
    bool done = false;
    void Open() {
      if (!done) p.set_value(), done = true;
    }
    ~Opener() { Open(); }
  } gate{release};
  inf.AddHandlers({[&, released](const ObjectPtr& p) {
                     if ((*p)["metadata"]["name"] != "gate") return;
                     entered.set_value();
                     released.wait();
                   },
                   nullptr, nullptr});
  CHECK_FALSE(inf.Assume(w->Create(resources::kConfigMaps, ns, testing::ConfigMap("early"))));
  inf.Start();
  REQUIRE(inf.WaitForSync(std::chrono::seconds(10)));
  w->Create(resources::kConfigMaps, ns, testing::ConfigMap("gate"));
  REQUIRE(entered.get_future().wait_for(std::chrono::seconds(30)) == std::future_status::ready);

  // Taken at once, handlers run once; the watch's own event for it changes nothing.
  json made = w->Create(resources::kConfigMaps, ns, testing::ConfigMap("mine", {{"v", "1"}}));
  CHECK(inf.Assume(made));
  REQUIRE(inf.Get(ns, "mine") != nullptr);
  CHECK((*inf.Get(ns, "mine"))["data"]["v"] == "1");
  CHECK(adds == 1);
  gate.Open();
  w->Create(resources::kConfigMaps, ns, testing::ConfigMap("marker"));  // after mine's event
  REQUIRE(testing::Eventually([&] { return inf.Get(ns, "marker") != nullptr; }));
  CHECK(adds == 1);
  CHECK(updates == 0);
  CHECK_FALSE(inf.Assume(made));  // delivered by now

  // Later changes arrive as usual; an older version is never put back.
  json changed =
      w->Patch(resources::kConfigMaps, ns, "mine", PatchType::kMerge, {{"data", {{"v", "2"}}}});
  REQUIRE(testing::Eventually([&] { return (*inf.Get(ns, "mine"))["data"]["v"] == "2"; }));
  // Handlers run just after the cache changed, on the watch thread.
  CHECK(testing::Eventually([&] { return updates == 1; }));
  CHECK_FALSE(inf.Assume(made));
  CHECK((*inf.Get(ns, "mine"))["data"]["v"] == "2");

  // Deleted and seen deleted: assuming its old state must not bring back a ghost.
  w->Delete(resources::kConfigMaps, ns, "mine");
  REQUIRE(testing::Eventually([&] { return inf.Get(ns, "mine") == nullptr; }));
  CHECK_FALSE(inf.Assume(changed));
  CHECK(inf.Get(ns, "mine") == nullptr);
  CHECK(Versions(inf.List()) == FreshList(*c, ns));
  CHECK(log.NoDuplicates());
  CHECK_FALSE(inf.Assume(json::object()));  // not an object of the API: refused
  inf.Stop();
}

TEST_CASE("informer: compact, transformed, and on_store sees the cache change in step with it") {
  auto c = testing::AdminClient();
  TestNamespace ns(*c);
  c->Create(resources::kConfigMaps, ns, testing::ConfigMap("first", {{"big", "xxxxxxxx"}}));
  Informer::Options o;
  o.transform = [](json& cm) { cm.erase("data"); };  // keep everything but the payload
  o.compact = true;                                  // stored as MessagePack, decoded on every read
  // A second index kept by on_store: at every moment it must equal the cache's keys, and
  // a handler must never find the cache ahead of it (so it runs before handlers).
  std::mutex index_mu;
  std::set<std::string> index;
  o.on_store = [&](const ObjectPtr& before, const ObjectPtr& after) {
    std::lock_guard<std::mutex> l(index_mu);
    if (after)
      index.insert(ObjectKey(*after));
    else
      index.erase(ObjectKey(*before));
  };
  Informer inf(*c, resources::kConfigMaps, ns, o);
  std::atomic<int> lagging{0};
  auto check = [&](const ObjectPtr&) {
    std::set<std::string> cached;
    for (auto& x : inf.List()) cached.insert(ObjectKey(*x));
    std::lock_guard<std::mutex> l(index_mu);  // not held while calling the informer
    if (cached != index) ++lagging;
  };
  inf.AddHandlers({check, [&](const ObjectPtr&, const ObjectPtr& x) { check(x); }, check});
  inf.Start();
  REQUIRE(inf.WaitForSync(std::chrono::seconds(10)));
  {
    std::lock_guard<std::mutex> l(index_mu);
    CHECK(index.count(std::string(ns) + "/first") == 1);  // the list went through on_store
  }
  for (int i = 0; i < 20; ++i)
    c->Create(resources::kConfigMaps, ns,
              testing::ConfigMap("m" + std::to_string(i), {{"k", "v"}}));
  for (int i = 0; i < 10; ++i) c->Delete(resources::kConfigMaps, ns, "m" + std::to_string(i));
  REQUIRE(testing::Eventually([&] { return Versions(inf.List()) == FreshList(*c, ns); },
                              std::chrono::seconds(10)));
  CHECK(lagging == 0);
  {
    std::lock_guard<std::mutex> l(index_mu);
    CHECK(index.size() == inf.Size());
  }
  CHECK_FALSE((*inf.Get(ns, "first")).contains("data"));
  CHECK((*inf.Get(ns, "first"))["metadata"]["name"] == "first");
  CHECK(inf.Version(std::string(ns) + "/first") ==
        (*inf.Get(ns, "first"))["metadata"]["resourceVersion"]);
  CHECK(inf.Version(std::string(ns) + "/nothing") == "");
  CHECK(inf.ByLabel("team", "x").empty());
  inf.Stop();
}

TEST_CASE("informer: periodic resync re-delivers cached objects as updates") {
  auto c = testing::AdminClient();
  TestNamespace ns(*c);
  c->Create(resources::kConfigMaps, ns, testing::ConfigMap("steady"));
  Informer::Options o;
  o.resync = std::chrono::milliseconds(300);
  Informer inf(*c, resources::kConfigMaps, ns, o);
  std::atomic<int> same{0};
  inf.AddHandlers({nullptr,
                   [&](const ObjectPtr& old_object, const ObjectPtr& new_object) {
                     if (old_object == new_object && (*new_object)["metadata"]["name"] == "steady")
                       ++same;
                   },
                   nullptr});
  inf.Start();
  REQUIRE(inf.WaitForSync(std::chrono::seconds(10)));
  CHECK(testing::Eventually([&] { return same >= 2; }, std::chrono::seconds(5)));
  inf.Stop();
}

TEST_CASE(
    "informer: resumes after kube-apiserver restarts mid-stream with nothing missed or "
    "duplicated") {
  auto c = testing::AdminClient();
  TestNamespace ns(*c);
  WatchedConfigMaps watched(*c, ns);
  Informer& inf = watched.inf;
  Log& log = watched.log;

  // A writer that keeps creating, updating and deleting, retrying through the outage.
  std::atomic<bool> stop{false};
  std::atomic<int> writes{0};
  std::thread writer([&] {
    for (int i = 0; !stop || i < 60; ++i) {
      std::string name = "cm-" + std::to_string(i % 20);
      for (;;) {
        try {
          if (i % 7 == 6) {
            c->Delete(resources::kConfigMaps, ns, name);
          } else {
            try {
              c->Create(resources::kConfigMaps, ns,
                        testing::ConfigMap(name, {{"i", std::to_string(i)}}));
            } catch (const Error& e) {
              if (!e.IsAlreadyExists()) throw;
              c->Patch(resources::kConfigMaps, ns, name, PatchType::kMerge,
                       {{"data", {{"i", std::to_string(i)}}}});
            }
          }
          ++writes;
          break;
        } catch (const Error& e) {
          if (e.IsNotFound()) break;
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  REQUIRE(testing::Eventually([&] { return writes > 15; }));
  uint64_t watches_before = inf.watch_stats().watches;
  CHECK(inf.watch_stats().streaming);
  testing::StopComponent("kube-apiserver");
  // The stream broke: not streaming until a watch is open again.
  CHECK(testing::Eventually([&] { return !inf.watch_stats().streaming; }));
  std::this_thread::sleep_for(std::chrono::seconds(1));
  auto restarted_at = std::chrono::system_clock::now();
  testing::StartComponent("kube-apiserver");
  stop = true;
  writer.join();

  // The watch was re-established, and the cache equals the truth.
  CHECK(testing::Eventually([&] { return inf.watch_stats().watches > watches_before; }));
  CHECK(testing::Eventually([&] { return inf.watch_stats().streaming; }));
  CHECK(inf.watch_stats().resumed_at >= restarted_at);  // reopened after the failures
  CHECK(testing::Eventually([&] { return Versions(inf.List()) == FreshList(*c, ns); }));
  CHECK(log.NoDuplicates());
  CHECK(inf.watch_stats().errors >= 1);
}

TEST_CASE("informer: 410 Gone after etcd compaction leads to a relist that matches a fresh list") {
  auto c = testing::AdminClient();
  TestNamespace ns(*c);
  for (int i = 0; i < 5; ++i)
    c->Create(resources::kConfigMaps, ns, testing::ConfigMap("cm-" + std::to_string(i)));
  WatchedConfigMaps watched(*c, ns);
  Informer& inf = watched.inf;
  Log& log = watched.log;
  REQUIRE(testing::Eventually([&] { return Versions(inf.List()) == FreshList(*c, ns); }));
  REQUIRE(inf.Get(ns, "cm-2") != nullptr);

  // While the API server is down, one object vanishes from etcd and etcd is compacted
  // past everything the informer has seen: its resume point no longer exists.
  testing::StopComponent("kube-apiserver");
  std::string key = "/registry/configmaps/" + ns.name() + "/cm-2";
  Etcd("kv/deleterange", {{"key", Base64Encode(key)}});
  json range = json::parse(Etcd("kv/range", {{"key", Base64Encode("/registry/")}, {"limit", 1}}));
  std::string revision = range["header"]["revision"];
  Etcd("kv/compaction", {{"revision", revision}, {"physical", true}});
  testing::StartComponent("kube-apiserver");

  CHECK(testing::Eventually([&] { return inf.watch_stats().gone >= 1; }, std::chrono::seconds(60)));
  CHECK(testing::Eventually([&] { return Versions(inf.List()) == FreshList(*c, ns); }));
  CHECK(inf.Get(ns, "cm-2") == nullptr);
  CHECK(log.deleted.count("cm-2") == 1);  // the missed deletion is delivered
  CHECK(log.NoDuplicates());
  CHECK(inf.watch_stats().lists >= 2);
}

TEST_CASE("watcher: a watch from a compacted version is answered 410 Gone") {
  auto c = testing::AdminClient();
  TestNamespace ns(*c);
  WatchOptions o;
  o.resource_version = "1";  // far older than anything the server keeps
  Error gone(ErrorKind::kApi, "none");
  try {
    auto stream = c->transport().Await(c->transport().OpenStream(
        requests::Watch(resources::kConfigMaps, ns, o), std::chrono::seconds(5)));
    auto line = c->transport().Await([](LineStream* s) -> Task<std::optional<std::string>> {
      co_return co_await s->NextLine();
    }(stream.get()));
    REQUIRE(line);
    json event = json::parse(*line);
    CHECK(event["type"] == "ERROR");
    CHECK(event["object"]["code"] == 410);
    // The stream lives on the I/O thread: let it be destroyed there.
    c->transport().Await(
        [](std::unique_ptr<LineStream>) -> Task<int> { co_return 0; }(std::move(stream)));
  } catch (const Error& e) {
    CHECK(e.IsGone());  // some servers refuse at once
  }
}
