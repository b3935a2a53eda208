#include "kube/workqueue.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

using kube::WorkQueue;
using namespace std::chrono_literals;

TEST_CASE("work queue: a key added many times is handed out once") {
  WorkQueue q;
  q.Add("a");
  q.Add("b");
  q.Add("a");
  q.Add("a");
  CHECK(q.stats().depth == 2);
  CHECK(q.Get() == "a");
  CHECK(q.Get() == "b");
  CHECK_FALSE(q.GetFor(20ms).has_value());
}

TEST_CASE("work queue: a key added while processing waits for Done") {
  WorkQueue q;
  q.Add("a");
  auto k = q.Get();
  REQUIRE(k == "a");
  q.Add("a");
  q.Add("a");
  CHECK_FALSE(q.GetFor(20ms).has_value());  // never two workers on one key
  q.Done("a");
  CHECK(q.GetFor(20ms) == "a");  // and then once, not twice
  q.Done("a");
  CHECK_FALSE(q.GetFor(20ms).has_value());
}

TEST_CASE("work queue: many workers never process one key concurrently") {
  WorkQueue q;
  std::atomic<int> in_a{0}, max_in_a{0}, processed{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&] {
      while (auto key = q.Get()) {
        if (*key == "a") {
          int now = ++in_a;
          int seen = max_in_a;
          while (now > seen && !max_in_a.compare_exchange_weak(seen, now)) {
          }
          std::this_thread::sleep_for(1ms);
          --in_a;
        }
        ++processed;
        q.Done(*key);
      }
    });
  }
  for (int i = 0; i < 300; ++i) {
    q.Add("a");
    q.Add("k" + std::to_string(i % 7));
    if (i % 50 == 0) std::this_thread::sleep_for(2ms);
  }
  // Let everything drain, then stop.
  for (int i = 0; i < 200 && (q.stats().depth > 0 || q.stats().processing > 0); ++i) {
    std::this_thread::sleep_for(5ms);
  }
  q.ShutDown();
  for (auto& t : workers) t.join();
  CHECK(max_in_a == 1);
  CHECK(processed > 0);
  CHECK(processed <= 600);
}

TEST_CASE("work queue: delayed adds arrive after their delay and the earliest wins") {
  WorkQueue q;
  auto start = kube::Clock::now();
  q.AddAfter("late", 200ms);
  q.AddAfter("soon", 30ms);
  q.AddAfter("late", 60ms);  // an earlier time replaces the later one
  CHECK(q.Get() == "soon");
  CHECK(kube::Clock::now() - start >= 30ms);
  CHECK(q.Get() == "late");
  auto elapsed = kube::Clock::now() - start;
  CHECK(elapsed >= 60ms);
  CHECK(elapsed < 190ms);
  q.Done("soon");
  q.Done("late");
  CHECK_FALSE(q.GetFor(250ms).has_value());  // the replaced 200 ms entry is gone
}

TEST_CASE("work queue: rate-limited re-adds back off per key until forgotten") {
  WorkQueue q;
  q.AddRateLimited("a");
  q.AddRateLimited("a");
  CHECK(q.NumRequeues("a") == 2);
  CHECK(q.stats().retries == 2);
  CHECK(q.GetFor(200ms) == "a");
  q.Done("a");
  q.Forget("a");
  CHECK(q.NumRequeues("a") == 0);
}

TEST_CASE("work queue: shutdown wakes blocked workers and refuses new keys") {
  WorkQueue q;
  std::thread worker([&] { CHECK_FALSE(q.Get().has_value()); });
  std::this_thread::sleep_for(20ms);
  q.ShutDown();
  worker.join();
  q.Add("x");
  CHECK(q.ShuttingDown());
  CHECK_FALSE(q.Get().has_value());
  CHECK(q.stats().depth == 0);
}
