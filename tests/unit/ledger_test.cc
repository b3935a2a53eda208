#include "controller/ledger.h"

#include <catch2/catch.hpp>
#include <limits>

using iarnet::Admit;
using iarnet::ComputeLedger;
using iarnet::Resources;

TEST_CASE("ledger: used is the sum of the charges and available what is left") {
  Resources total{8000, 8LL << 30, 4};
  auto l = ComputeLedger(total, {{1000, 1LL << 30, 1}, {500, 512LL << 20, 0}});
  CHECK(l.used == Resources{1500, (1LL << 30) + (512LL << 20), 1});
  CHECK(l.available == Resources{6500, (8LL << 30) - (1LL << 30) - (512LL << 20), 3});
  CHECK(l.admitted == 2);
  CHECK(ComputeLedger(total, {}).available == total);
}

TEST_CASE("ledger: admission up to exactly the total and not one unit past it") {
  Resources total{1000, 1000, 1};
  auto l = ComputeLedger(total, {{600, 600, 0}});
  CHECK(Admit(l, {400, 400, 1}).admitted);
  auto v = Admit(l, {401, 400, 0});
  CHECK_FALSE(v.admitted);
  CHECK(v.reason == "InsufficientCapacity");
  CHECK(v.message ==
        "insufficient capacity: requested cpu 401m, memory 400, gpu 0; available cpu 400m, "
        "memory 400, gpu 1 of cpu 1, memory 1000, gpu 1");
  CHECK_FALSE(Admit(l, {0, 401, 0}).admitted);
  CHECK_FALSE(Admit(l, {0, 0, 2}).admitted);
  CHECK(Admit(l, {0, 0, 0}).admitted);
}

TEST_CASE("ledger: a total lowered below what is used reports zero free and admits nothing") {
  auto l = ComputeLedger({1000, 1000, 0}, {{800, 800, 0}, {700, 100, 0}});
  CHECK(l.used == Resources{1500, 900, 0});
  CHECK(l.available == Resources{0, 100, 0});
  CHECK_FALSE(Admit(l, {1, 0, 0}).admitted);
  CHECK(Admit(l, {0, 100, 0}).admitted);
}

TEST_CASE("ledger: negative requests are refused and sums saturate instead of wrapping") {
  auto l = ComputeLedger({1000, 1000, 1}, {});
  auto v = Admit(l, {-1, 0, 0});
  CHECK_FALSE(v.admitted);
  CHECK(v.reason == "InvalidRequest");
  const int64_t max = std::numeric_limits<int64_t>::max();
  auto huge = ComputeLedger({max, max, max}, {{max, max, max}, {max, 1, 1}});
  CHECK(huge.used == Resources{max, max, max});
  CHECK(huge.available == Resources{0, 0, 0});
  CHECK(iarnet::Available({max, 0, 0}, {-1, 0, 0}).cpu == max);
}

TEST_CASE("ledger: Describe uses Kubernetes quantities") {
  CHECK(iarnet::Describe({1500, 512LL << 20, 2}) == "cpu 1500m, memory 512Mi, gpu 2");
  CHECK(iarnet::Describe({2000, 8LL << 30, 0}) == "cpu 2, memory 8Gi, gpu 0");
}
