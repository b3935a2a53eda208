#include "kube/packed_json.h"

#include <catch2/catch.hpp>
#include <limits>
#include <thread>

using kube::JsonPacker;
using nlohmann::json;

namespace {

json Workload(int i) {
  std::string n = std::to_string(i);
  return {
      {"apiVersion", "iarnet.io/v1alpha1"},
      {"kind", "IarnetWorkload"},
      {"metadata",
       {{"name", "w" + n},
        {"namespace", "team-a"},
        {"uid", "4aae684d-3575-4447-a95b-" + std::string(12 - n.size(), '0') + n},
        {"finalizers", {"iarnet.io/release"}},
        {"resourceVersion", std::to_string(1000 + i)}}},
      {"spec", {{"instanceId", "comp.w" + n}, {"resources", {{"cpu", 10}, {"memory", 1 << 20}}}}},
      {"status",
       {{"phase", "Running"},
        {"conditions",
         {{{"type", "Admitted"}, {"status", "True"}, {"reason", "Admitted"}},
          {{"type", "Ready"}, {"status", "True"}, {"reason", "PodRunning"}}}}}}};
}

}  // namespace

TEST_CASE("packed json: every kind of value comes back as it went in") {
  JsonPacker p;
  json v = {{"null", nullptr},
            {"t", true},
            {"f", false},
            {"zero", 0},
            {"negative", -1},
            {"min", std::numeric_limits<int64_t>::min()},
            {"max", std::numeric_limits<int64_t>::max()},
            {"umax", std::numeric_limits<uint64_t>::max()},
            {"double", -2.5e-300},
            {"empty string", ""},
            {"unicode", "h\u00e9llo \xe2\x9c\x93"},
            {"nul inside", std::string("a\0b", 3)},
            {"long", std::string(5000, 'x')},
            {"empty object", json::object()},
            {"empty array", json::array()},
            {"nested", {{"a", {1, "two", {{"three", {3.5, nullptr}}}}}}},
            {std::string(200, 'k'), "a key too long for the dictionary"}};
  json back = p.Unpack(p.Pack(v));
  CHECK(back == v);
  // Types survive, not only values: a uint64 stays unsigned, a negative stays signed.
  CHECK(back["umax"].is_number_unsigned());
  CHECK(back["negative"].is_number_integer());
  CHECK(back["double"].is_number_float());
  for (const json& scalar : {json(nullptr), json(7), json("s"), json::array({1, 2})}) {
    CHECK(p.Unpack(p.Pack(scalar)) == scalar);
  }
}

TEST_CASE("packed json: recurring keys and values are written once") {
  JsonPacker p;
  std::string first = p.Pack(Workload(1));
  size_t entries = p.dictionary_size();
  std::string second = p.Pack(Workload(2));
  // The second object reuses the first one's keys and common values: it adds only its
  // own name, uid, resourceVersion and instance id.
  CHECK(p.dictionary_size() == entries + 4);
  CHECK(second.size() * 3 < json::to_msgpack(Workload(2)).size());
  CHECK(p.Unpack(first) == Workload(1));
  CHECK(p.Unpack(second) == Workload(2));
}

TEST_CASE("packed json: values that never recur stop being added to the dictionary") {
  JsonPacker p;
  std::vector<std::string> packed;
  for (int i = 0; i < 1000; ++i) packed.push_back(p.Pack(Workload(i)));
  // Names, uids, versions and instance ids are new in each object: each key adds at
  // most kValuesPerKey of them, however many objects are packed.
  size_t after_1000 = p.dictionary_size();
  CHECK(after_1000 < 40 + 5 * JsonPacker::kValuesPerKey);
  for (int i = 1000; i < 3000; ++i) p.Pack(Workload(i));
  CHECK(p.dictionary_size() == after_1000);
  for (int i = 0; i < 1000; i += 97) CHECK(p.Unpack(packed[i]) == Workload(i));
}

TEST_CASE("packed json: bytes not from the packer are refused, not read past their end") {
  JsonPacker p;
  std::string good = p.Pack(Workload(1));
  for (size_t cut = 0; cut < good.size(); ++cut) {
    CHECK_THROWS_AS(p.Unpack(std::string_view(good).substr(0, cut)), std::runtime_error);
  }
  CHECK_THROWS_AS(p.Unpack(good + "x"), std::runtime_error);
  JsonPacker other;  // an empty dictionary: the references mean nothing there
  CHECK_THROWS_AS(other.Unpack(good), std::runtime_error);
  CHECK_THROWS_AS(p.Unpack(std::string("\x09\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 11)),
                  std::runtime_error);
  CHECK_THROWS_AS(p.Unpack(std::string(1, char(0x7f))), std::runtime_error);
  // Deep nesting beyond the limit is refused on both sides.
  json deep = json::array();
  for (int i = 0; i < JsonPacker::kMaxDepth + 5; ++i) deep = json::array({deep});
  CHECK_THROWS_AS(p.Pack(deep), std::invalid_argument);
  std::string nested;  // arrays of one element, one inside the other
  for (int i = 0; i < JsonPacker::kMaxDepth + 5; ++i) nested += "\x08\x01";
  CHECK_THROWS_AS(p.Unpack(nested + '\x00'), std::runtime_error);
}

TEST_CASE("packed json: packing and unpacking from several threads") {
  JsonPacker p;
  std::vector<std::string> first(200);
  for (int i = 0; i < 200; ++i) first[i] = p.Pack(Workload(i));
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        if (t % 2) {
          json w = Workload(1000 * (t + 1) + i);
          w["metadata"]["labels"] = {{"thread-" + std::to_string(t), std::to_string(i % 7)}};
          if (p.Unpack(p.Pack(w)) != w) ++wrong;
        } else if (p.Unpack(first[i]) != Workload(i)) {
          ++wrong;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(wrong == 0);
}
