#include "kube/list_page.h"

#include <catch2/catch.hpp>

#include "kube/error.h"

using kube::json;
using kube::ParseListPage;

namespace {

json Page(int n, const std::string& next) {
  json items = json::array();
  for (int i = 0; i < n; ++i) {
    items.push_back({{"metadata", {{"name", "p" + std::to_string(i)}, {"labels", {{"a", "b"}}}}},
                     {"spec", {{"containers", {{{"name", "main"}, {"args", {"x", 1, 2.5}}}}}}},
                     {"status", {{"phase", "Running"}, {"ready", true}, {"message", nullptr}}}});
  }
  return {{"kind", "PodList"},
          {"apiVersion", "v1"},
          {"metadata", {{"resourceVersion", "42"}, {"continue", next}}},
          {"items", items}};
}

}  // namespace

TEST_CASE("list page: each item is handed out whole and in order, the rest returned") {
  json page = Page(3, "token");
  std::vector<json> seen;
  json rest = ParseListPage(page.dump(), [&](json item) { seen.push_back(std::move(item)); });
  REQUIRE(seen.size() == 3);
  for (size_t i = 0; i < 3; ++i) CHECK(seen[i] == page["items"][i]);
  CHECK(rest["metadata"]["continue"] == "token");
  CHECK(rest["metadata"]["resourceVersion"] == "42");
  CHECK(rest["kind"] == "PodList");
  CHECK(rest["items"] == json::array());
}

TEST_CASE("list page: items are handed out while the page is read, not after") {
  // The first item arrives before the parser has seen the second.
  std::string body = Page(2, "").dump();
  int calls = 0;
  CHECK_THROWS(ParseListPage(body.substr(0, body.rfind("{\"metadata\"")), [&](json) { ++calls; }));
  CHECK(calls == 1);
}

TEST_CASE("list page: an empty list, a list without items, and keys in any order") {
  int calls = 0;
  auto count = [&](json) { ++calls; };
  CHECK(ParseListPage(R"({"items":[],"metadata":{}})", count)["metadata"] == json::object());
  CHECK(ParseListPage(R"({"metadata":{"resourceVersion":"7"}})",
                      count)["metadata"]["resourceVersion"] == "7");
  json rest = ParseListPage(R"({"items":[{"a":{"items":[{"b":1}]}}],"metadata":{"x":1}})", count);
  CHECK(calls == 1);  // only the top-level items, not an "items" nested in one
  CHECK(rest["metadata"]["x"] == 1);
}

TEST_CASE("list page: malformed answers are a protocol error") {
  auto ignore = [](json) {};
  for (const char* bad : {"", "not json", "[1,2]", "null", R"({"items":[{"a":1},)",
                          R"({"items":[1,2]})", R"({"items":[{"a":1}]} trailing)"}) {
    INFO(bad);
    try {
      ParseListPage(bad, ignore);
      FAIL("no error");
    } catch (const kube::Error& e) {
      CHECK(e.kind() == kube::ErrorKind::kProtocol);
    }
  }
}

TEST_CASE("list page: managedFields of the items can be passed over unbuilt") {
  json page = Page(2, "");
  json fields = json::array({{{"manager", "kubectl"},
                              {"fieldsV1", {{"f:data", {{"f:a", json::object()}}}}},
                              {"time", "2026-11-30T00:00:00Z"}}});
  for (auto& item : page["items"]) item["metadata"]["managedFields"] = fields;
  // A key of that name elsewhere is data, not metadata: kept.
  page["items"][1]["spec"]["managedFields"] = {1, {{"x", nullptr}}};
  std::vector<json> skipped, kept;
  ParseListPage(
      page.dump(), [&](json i) { skipped.push_back(std::move(i)); }, true);
  ParseListPage(
      page.dump(), [&](json i) { kept.push_back(std::move(i)); }, false);
  REQUIRE(skipped.size() == 2);
  REQUIRE(kept.size() == 2);
  for (size_t i = 0; i < 2; ++i) {
    CHECK(kept[i] == page["items"][i]);
    json expected = page["items"][i];
    expected["metadata"].erase("managedFields");
    CHECK(skipped[i] == expected);
  }
  CHECK(skipped[1]["spec"]["managedFields"] == json::array({1, {{"x", nullptr}}}));
}
