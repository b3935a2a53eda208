// Wakes threads that wait for a cache to change: a version number and a condition
// variable. Notify is cheap and never blocks (it runs on the informer's I/O thread);
// waiters re-check their own condition after every change.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

namespace iarnet {

class ChangeNotifier {
 public:
  uint64_t version() {
    std::lock_guard<std::mutex> lock(mu_);
    return version_;
  }
  void Notify() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++version_;
    }
    cv_.notify_all();
  }
  // Waits until the version moves past `seen` or `deadline` passes; returns the version.
  uint64_t WaitPast(uint64_t seen, std::chrono::steady_clock::time_point deadline) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_until(lock, deadline, [&] { return version_ != seen; });
    return version_;
  }
  // Calls `done` now and after every change until it holds (true) or `deadline` passes
  // (false; `done` has then been called once more at or after the deadline).
  template <class Done>
  bool WaitUntil(std::chrono::steady_clock::time_point deadline, Done done) {
    for (uint64_t seen = version();;) {
      if (done()) return true;
      if (std::chrono::steady_clock::now() >= deadline) return false;
      seen = WaitPast(seen, deadline);
    }
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t version_ = 0;
};

}  // namespace iarnet
