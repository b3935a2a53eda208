// Pure timing arithmetic for retries, with time and randomness passed in so that tests
// are exact: the watch reconnect backoff, and the work queue's rate limiters.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <random>
#include <string>

namespace kube {

using Clock = std::chrono::steady_clock;
using Millis = std::chrono::milliseconds;

// Exponential backoff with jitter that starts over after a healthy period, as client-go
// reconnects watches: 800 ms doubling to 30 s, up to +100% jitter, reset after 2 min
// without a failure.
class Backoff {
 public:
  struct Options {
    Millis initial{800};
    Millis max{30000};
    double factor = 2.0;
    double jitter = 1.0;  // the wait is d + rand[0, jitter) * d
    Millis reset_after{120000};
  };
  explicit Backoff(Options options, uint64_t seed = std::random_device{}());
  Backoff() : Backoff(Options{}) {}

  // The wait before the next attempt, after a failure at `now`.
  Millis Next(Clock::time_point now);
  const Options& options() const { return options_; }

 private:
  Options options_;
  Millis current_;
  bool failed_before_ = false;
  Clock::time_point last_failure_{};
  std::mt19937_64 rng_;
};

// Per-item exponential backoff: base * 2^(failures of that item), capped.
class ItemExponentialLimiter {
 public:
  ItemExponentialLimiter(Millis base = Millis(5), Millis max = Millis(1000 * 1000))
      : base_(base), max_(max) {}
  Millis When(const std::string& item);  // counts one more failure of the item
  void Forget(const std::string& item) { failures_.erase(item); }
  int NumRequeues(const std::string& item) const;

 private:
  Millis base_, max_;
  std::map<std::string, int> failures_;
};

// Overall token bucket: `qps` tokens a second, at most `burst` saved. Each call takes a
// token and returns how long to wait for it (zero while tokens remain).
class TokenBucketLimiter {
 public:
  TokenBucketLimiter(double qps = 10, int burst = 100) : qps_(qps), burst_(burst), tokens_(burst) {}
  Millis When(Clock::time_point now);

 private:
  double qps_;
  int burst_;
  double tokens_;
  bool started_ = false;
  Clock::time_point last_{};
};

// controller-runtime's default: the larger of the per-item and the overall delays.
class ControllerRateLimiter {
 public:
  ControllerRateLimiter() = default;
  ControllerRateLimiter(ItemExponentialLimiter item, TokenBucketLimiter bucket)
      : item_(item), bucket_(bucket) {}
  Millis When(const std::string& item, Clock::time_point now) {
    return std::max(item_.When(item), bucket_.When(now));
  }
  void Forget(const std::string& item) { item_.Forget(item); }
  int NumRequeues(const std::string& item) const { return item_.NumRequeues(item); }

 private:
  ItemExponentialLimiter item_;
  TokenBucketLimiter bucket_;
};

}  // namespace kube
