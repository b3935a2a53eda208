#include "kube/backoff.h"

#include <catch2/catch.hpp>

using kube::Backoff;
using kube::Clock;
using kube::Millis;
using namespace std::chrono_literals;

TEST_CASE("watch backoff: 800 ms doubling to 30 s") {
  Backoff::Options o;
  o.jitter = 0;
  Backoff b(o);
  auto t = Clock::time_point{} + 1h;
  std::vector<int64_t> waits;
  for (int i = 0; i < 8; ++i) {
    waits.push_back(b.Next(t).count());
    t += 1s;
  }
  CHECK(waits == std::vector<int64_t>{800, 1600, 3200, 6400, 12800, 25600, 30000, 30000});
}

TEST_CASE("watch backoff: resets after a healthy period") {
  Backoff::Options o;
  o.jitter = 0;
  Backoff b(o);
  auto t = Clock::time_point{} + 1h;
  b.Next(t);
  b.Next(t + 1s);
  CHECK(b.Next(t + 2s) == 3200ms);
  CHECK(b.Next(t + 2s + 119s) == 6400ms);  // not yet healthy long enough
  CHECK(b.Next(t + 2s + 119s + 121s) == 800ms);
}

TEST_CASE("watch backoff: jitter keeps each wait at least d and below 2d") {
  Backoff b(Backoff::Options{}, 42);
  auto t = Clock::time_point{} + 1h;
  int64_t base = 800;
  bool varied = false;
  for (int i = 0; i < 8; ++i) {
    int64_t w = b.Next(t).count();
    CHECK(w >= base);
    CHECK(w < 2 * base);
    varied = varied || w != base;
    base = std::min<int64_t>(base * 2, 30000);
  }
  CHECK(varied);
}

TEST_CASE("per-item exponential backoff: 5 ms doubling to 1000 s per item until forgotten") {
  kube::ItemExponentialLimiter l;
  CHECK(l.When("a") == 5ms);
  CHECK(l.When("a") == 10ms);
  CHECK(l.When("a") == 20ms);
  CHECK(l.When("b") == 5ms);
  CHECK(l.NumRequeues("a") == 3);
  for (int i = 0; i < 100; ++i) l.When("a");
  CHECK(l.When("a") == 1000s);
  l.Forget("a");
  CHECK(l.NumRequeues("a") == 0);
  CHECK(l.When("a") == 5ms);
}

TEST_CASE("token bucket: burst 100 free then 10 per second") {
  kube::TokenBucketLimiter bucket(10, 100);
  auto t = Clock::time_point{} + 1h;
  for (int i = 0; i < 100; ++i) REQUIRE(bucket.When(t) == 0ms);
  CHECK(bucket.When(t) == 100ms);
  CHECK(bucket.When(t) == 200ms);
  // A second later 10 tokens have been earned, which pay the debt of two and leave 8.
  t += 1s;
  for (int i = 0; i < 8; ++i) CHECK(bucket.When(t) == 0ms);
  CHECK(bucket.When(t) == 100ms);
  // Tokens never accumulate past the burst.
  t += 1h;
  for (int i = 0; i < 100; ++i) REQUIRE(bucket.When(t) == 0ms);
  CHECK(bucket.When(t) > 0ms);
}

TEST_CASE("controller rate limiter: the larger of item backoff and bucket") {
  kube::ControllerRateLimiter l;
  auto t = Clock::time_point{} + 1h;
  CHECK(l.When("x", t) == 5ms);
  CHECK(l.When("x", t) == 10ms);
  for (int i = 0; i < 98; ++i) l.When("y" + std::to_string(i), t);
  CHECK(l.When("z", t) == 100ms);  // bucket exhausted: its delay dominates
  l.Forget("x");
  CHECK(l.NumRequeues("x") == 0);
}
