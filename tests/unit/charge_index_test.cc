#include "controller/charge_index.h"

#include <catch2/catch.hpp>
#include <random>

using namespace iarnet;

TEST_CASE("charge index: the ledger equals ComputeLedger over the current records") {
  // Random sets, replacements and erasures of 200 keys; after each, the index's ledger
  // must be what a full pass over the records computes.
  std::mt19937_64 rng(42);
  ChargeIndex index;
  std::map<std::string, std::optional<Resources>> truth;
  const Resources total{100000, int64_t{1} << 40, 64};
  for (int step = 0; step < 5000; ++step) {
    std::string key = "ns/w" + std::to_string(rng() % 200);
    switch (rng() % 4) {
      case 0:
        index.Erase(key);
        truth.erase(key);
        break;
      case 1:
        index.Set(key, step, std::nullopt, rng() % 2);
        truth[key] = std::nullopt;
        break;
      default: {
        Resources r{int64_t(rng() % 4000), int64_t(rng() % (int64_t{1} << 32)), int64_t(rng() % 3)};
        index.Set(key, step, r, false);
        truth[key] = r;
      }
    }
    std::vector<Resources> charges;
    for (const auto& [k, c] : truth) {
      if (c) charges.push_back(*c);
    }
    REQUIRE(index.ComputeWith(total, {}) == ComputeLedger(total, charges));
  }
  CHECK(index.size() == truth.size());
}

TEST_CASE("charge index: replacements stand in for cached charges, unknown keys add nothing") {
  ChargeIndex index;
  index.Set("a", 5, Resources{100, 10, 0}, false);
  index.Set("b", 6, std::nullopt, true);
  const Resources total{1000, 1000, 1};
  Ledger l = index.ComputeWith(
      total, {{"a", std::nullopt}, {"b", Resources{300, 30, 1}}, {"gone", Resources{999, 999, 1}}});
  CHECK(l.used == Resources{300, 30, 1});
  CHECK(l.admitted == 1);
  CHECK(l.available == Resources{700, 970, 0});
  CHECK(index.Find("a")->resource_version == 5);
  CHECK(index.Find("nope") == nullptr);
  CHECK(index.rejected() == std::set<std::string>{"b"});
  index.Set("b", 7, Resources{1, 1, 0}, false);
  CHECK(index.rejected().empty());
}

TEST_CASE("charge index: sums saturate like ComputeLedger and come back exactly") {
  ChargeIndex index;
  const int64_t max = std::numeric_limits<int64_t>::max();
  index.Set("a", 1, Resources{max, max, max}, false);
  index.Set("b", 2, Resources{max, 5, 0}, false);
  Ledger l = index.ComputeWith({10, 10, 10}, {});
  CHECK(l.used == Resources{max, max, max});
  CHECK(l.available == Resources{0, 0, 0});
  index.Erase("a");  // exact arithmetic underneath: no drift after the overflow
  CHECK(index.ComputeWith({10, 10, 10}, {}).used == Resources{max, 5, 0});
}
