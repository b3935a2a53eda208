#include "kube/object_store.h"

#include <catch2/catch.hpp>

using kube::ObjectStore;

namespace {

ObjectStore::Stored At(const std::string& version, const std::string& tag = "") {
  ObjectStore::Stored s;
  s.version = version;
  s.packed = tag;
  return s;
}

std::string VersionOf(const ObjectStore& store, const std::string& key) {
  const auto* s = store.Find(key);
  return s ? s->version : "absent";
}

// A relist of `items` (key, version) at `list_version`.
std::vector<ObjectStore::Change> Relist(ObjectStore& store,
                                        std::vector<std::pair<std::string, std::string>> items,
                                        const std::string& list_version) {
  store.ListBegin();
  for (auto& [key, version] : items) {
    if (const auto* same = store.Unchanged(key, version)) {
      store.Listed(key, *same, false);
    } else {
      store.Listed(key, At(version), true);
    }
  }
  return store.ListEnd(list_version);
}

}  // namespace

TEST_CASE("object store: the first list fills the cache and reports every object as added") {
  ObjectStore store;
  auto changes = Relist(store, {{"ns/a", "5"}, {"ns/b", "7"}}, "10");
  CHECK(changes.size() == 2);
  for (auto& c : changes) {
    CHECK_FALSE(c.before);
    CHECK(c.after);
  }
  CHECK(VersionOf(store, "ns/a") == "5");
  CHECK(store.entries().size() == 2);
}

TEST_CASE("object store: watch events in order replace, and an older or equal one is ignored") {
  ObjectStore store;
  Relist(store, {{"ns/a", "5"}}, "10");
  auto c = store.Watched("ns/a", "11", [] { return At("11"); });
  REQUIRE(c);
  CHECK(c->before->version == "5");
  CHECK(c->after->version == "11");
  CHECK_FALSE(store.Watched("ns/a", "11", [] { return At("11"); }));
  CHECK_FALSE(store.Watched("ns/a", "9", [] { return At("9"); }));
  bool made = false;  // what is dropped is never built (decoding and packing cost)
  CHECK_FALSE(store.Watched("ns/a", "10", [&] {
    made = true;
    return At("10");
  }));
  CHECK_FALSE(made);
  CHECK(VersionOf(store, "ns/a") == "11");
  // A version that is not a number is taken as it comes.
  CHECK(store.Watched("ns/a", "opaque", [] { return At("opaque"); }));
}

TEST_CASE("object store: assumed writes wait for the first list and never go behind the watch") {
  ObjectStore store;
  CHECK_FALSE(store.Assumed("ns/a", "3", [] { return At("3"); }));  // not synced yet
  Relist(store, {{"ns/a", "5"}}, "10");
  store.SetSynced();
  CHECK_FALSE(store.Assumed("ns/a", "10",
                            [] { return At("10"); }));  // the list already reflects version 10
  CHECK_FALSE(store.Assumed("ns/a", "", [] { return At(""); }));  // no version: cannot be ordered
  auto ours = store.Assumed("ns/a", "12", [] { return At("12", "ours"); });
  REQUIRE(ours);
  CHECK(VersionOf(store, "ns/a") == "12");
  // The watch then brings the same version: a no-op, ours stays.
  CHECK_FALSE(store.Watched("ns/a", "12", [] { return At("12", "watch"); }));
  CHECK(store.Find("ns/a")->packed == "ours");
  // Then something newer from the watch replaces it.
  CHECK(store.Watched("ns/a", "13", [] { return At("13"); }));
}

TEST_CASE("object store: an assumed write after the watch delivered its deletion is no ghost") {
  ObjectStore store;
  Relist(store, {{"ns/a", "5"}}, "10");
  store.SetSynced();
  auto gone = store.Deleted("ns/a", "15");
  CHECK(gone.before);
  CHECK_FALSE(gone.after);
  // Our write at 14 returned after the deletion (15) was delivered: refused.
  CHECK_FALSE(store.Assumed("ns/a", "14", [] { return At("14"); }));
  CHECK(VersionOf(store, "ns/a") == "absent");
  // A deletion of what the cache never had changes nothing.
  CHECK_FALSE(store.Deleted("ns/b", "16").before);
}

TEST_CASE("object store: a relist keeps assumed objects newer than the list and reports the rest") {
  ObjectStore store;
  Relist(store, {{"ns/a", "5"}, {"ns/b", "6"}, {"ns/c", "7"}}, "10");
  store.SetSynced();
  REQUIRE(store.Assumed("ns/d", "30",
                        [] { return At("30"); }));  // ours, written while the next list was read
  REQUIRE(store.Watched("ns/b", "12", [] { return At("12"); }));
  // The list at 20: a unchanged, b changed again, c gone (deleted unseen), e new; d is
  // newer than the list and stays.
  auto changes = Relist(store, {{"ns/a", "5"}, {"ns/b", "18"}, {"ns/e", "19"}}, "20");
  std::map<std::string, std::pair<std::string, std::string>> seen;  // key -> before, after
  for (auto& c : changes) {
    seen[c.key] = {c.before ? c.before->version : "-", c.after ? c.after->version : "-"};
  }
  CHECK(seen == std::map<std::string, std::pair<std::string, std::string>>{
                    {"ns/b", {"12", "18"}}, {"ns/c", {"7", "-"}}, {"ns/e", {"-", "19"}}});
  CHECK(VersionOf(store, "ns/d") == "30");
  CHECK(VersionOf(store, "ns/a") == "5");
  CHECK(VersionOf(store, "ns/c") == "absent");
  // The list's version counts as delivered: an assumed write at or below it is refused.
  CHECK_FALSE(store.Assumed("ns/f", "20", [] { return At("20"); }));
}

TEST_CASE("object store: resourceVersions are numbers when they are decimal integers") {
  CHECK(kube::ResourceVersionNumber(std::string("12345")) == 12345);
  CHECK(kube::ResourceVersionNumber(std::string("")) == 0);
  CHECK(kube::ResourceVersionNumber(std::string("12abc")) == 0);
  CHECK(kube::ResourceVersionNumber(std::string("99999999999999999999999")) == 0);
  CHECK(kube::ResourceVersionNumber(kube::json{{"metadata", {{"resourceVersion", "7"}}}}) == 7);
  CHECK(kube::ResourceVersionNumber(kube::json::object()) == 0);
}
