#include "kube/backoff.h"

#include <algorithm>
#include <cmath>

namespace kube {

Backoff::Backoff(Options options, uint64_t seed)
    : options_(options), current_(options.initial), rng_(seed) {}

Millis Backoff::Next(Clock::time_point now) {
  if (failed_before_ && now - last_failure_ > options_.reset_after) current_ = options_.initial;
  failed_before_ = true;
  last_failure_ = now;
  Millis wait = current_;
  if (options_.jitter > 0) {
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    wait += Millis(static_cast<int64_t>(unit(rng_) * options_.jitter * double(current_.count())));
  }
  double next = double(current_.count()) * options_.factor;
  current_ = next >= double(options_.max.count()) ? options_.max : Millis(int64_t(next));
  return wait;
}

Millis ItemExponentialLimiter::When(const std::string& item) {
  int exp = failures_[item]++;
  // 2^exp overflows long before the cap matters; stop doubling once past it.
  double delay = double(base_.count()) * std::pow(2.0, std::min(exp, 62));
  if (delay >= double(max_.count())) return max_;
  return Millis(int64_t(delay));
}

int ItemExponentialLimiter::NumRequeues(const std::string& item) const {
  auto it = failures_.find(item);
  return it == failures_.end() ? 0 : it->second;
}

Millis TokenBucketLimiter::When(Clock::time_point now) {
  if (started_) {
    double elapsed = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(double(burst_), tokens_ + std::max(0.0, elapsed) * qps_);
  }
  started_ = true;
  last_ = now;
  tokens_ -= 1;  // a negative balance is a reservation paid for by waiting
  if (tokens_ >= 0) return Millis(0);
  return Millis(int64_t(std::ceil(-tokens_ / qps_ * 1000.0)));
}

}  // namespace kube
