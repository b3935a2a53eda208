#include "kube/workqueue.h"

namespace kube {

WorkQueue::WorkQueue(std::string name, ControllerRateLimiter limiter)
    : name_(std::move(name)), limiter_(std::move(limiter)) {}

void WorkQueue::AddLocked(const std::string& key) {
  if (shutdown_ || dirty_.count(key)) return;
  dirty_.insert(key);
  if (processing_.count(key)) return;  // queued again by Done
  queue_.push_back(key);
  ++stats_.adds;
  cv_.notify_one();
}

void WorkQueue::Add(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  AddLocked(key);
}

void WorkQueue::AddAfter(const std::string& key, Millis delay) {
  std::lock_guard<std::mutex> lock(mu_);
  if (shutdown_) return;
  if (delay <= Millis(0)) return AddLocked(key);
  auto due = Clock::now() + delay;
  auto it = waiting_at_.find(key);
  if (it != waiting_at_.end()) {
    if (it->second <= due) return;  // already due sooner
    for (auto w = waiting_.lower_bound(it->second); w != waiting_.end() && w->first == it->second;
         ++w) {
      if (w->second == key) {
        waiting_.erase(w);
        break;
      }
    }
  }
  waiting_.emplace(due, key);
  waiting_at_[key] = due;
  cv_.notify_all();  // a sleeping Get may need to wake sooner
}

void WorkQueue::AddRateLimited(const std::string& key) {
  Millis delay;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shutdown_) return;
    ++stats_.retries;
    delay = limiter_.When(key, Clock::now());
  }
  AddAfter(key, delay);
}

void WorkQueue::Forget(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  limiter_.Forget(key);
}

int WorkQueue::NumRequeues(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  return limiter_.NumRequeues(key);
}

std::optional<Clock::time_point> WorkQueue::PromoteDueLocked(Clock::time_point now) {
  while (!waiting_.empty() && waiting_.begin()->first <= now) {
    std::string key = waiting_.begin()->second;
    waiting_.erase(waiting_.begin());
    waiting_at_.erase(key);
    AddLocked(key);
  }
  if (waiting_.empty()) return std::nullopt;
  return waiting_.begin()->first;
}

std::optional<std::string> WorkQueue::GetUntil(std::optional<Clock::time_point> deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (shutdown_) return std::nullopt;
    auto next_due = PromoteDueLocked(Clock::now());
    if (!queue_.empty()) break;
    auto wake = next_due;
    if (deadline && (!wake || *deadline < *wake)) wake = deadline;
    if (deadline && Clock::now() >= *deadline) return std::nullopt;
    if (wake) {
      cv_.wait_until(lock, *wake);
    } else {
      cv_.wait(lock);
    }
  }
  std::string key = std::move(queue_.front());
  queue_.pop_front();
  processing_.insert(key);
  dirty_.erase(key);
  return key;
}

std::optional<std::string> WorkQueue::Get() { return GetUntil(std::nullopt); }

std::optional<std::string> WorkQueue::GetFor(Millis timeout) {
  return GetUntil(Clock::now() + timeout);
}

void WorkQueue::Done(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  processing_.erase(key);
  if (dirty_.count(key) && !shutdown_) {
    queue_.push_back(key);
    ++stats_.adds;
    cv_.notify_one();
  }
}

void WorkQueue::ShutDown() {
  std::lock_guard<std::mutex> lock(mu_);
  shutdown_ = true;
  cv_.notify_all();
}

bool WorkQueue::ShuttingDown() {
  std::lock_guard<std::mutex> lock(mu_);
  return shutdown_;
}

WorkQueue::Stats WorkQueue::stats() {
  std::lock_guard<std::mutex> lock(mu_);
  Stats s = stats_;
  s.depth = queue_.size();
  s.processing = processing_.size();
  return s;
}

}  // namespace kube
