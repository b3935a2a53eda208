// A work queue of keys for controllers, with client-go's guarantees: a key waiting
// more than once is queued once; a key is never handed to two workers at the same time
// (added while being processed, it is queued again when the worker calls Done);
// delayed adds; rate-limited re-adds; clean shutdown. Thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "kube/backoff.h"

namespace kube {

class WorkQueue {
 public:
  struct Stats {
    uint64_t adds = 0;     // keys queued (after dedupe)
    uint64_t retries = 0;  // AddRateLimited calls
    size_t depth = 0;      // keys waiting now
    size_t processing = 0;
  };

  explicit WorkQueue(std::string name = "", ControllerRateLimiter limiter = {});

  void Add(const std::string& key);
  void AddAfter(const std::string& key, Millis delay);
  // Re-add after the rate limiter's delay (per-key exponential backoff, overall bucket).
  void AddRateLimited(const std::string& key);
  // Stop backing off the key (after it was processed successfully).
  void Forget(const std::string& key);
  int NumRequeues(const std::string& key);

  // Blocks until a key is ready; nullopt once the queue is shut down.
  std::optional<std::string> Get();
  // Like Get, but gives up after `timeout` (nullopt).
  std::optional<std::string> GetFor(Millis timeout);
  // The worker finished with the key.
  void Done(const std::string& key);

  void ShutDown();
  bool ShuttingDown();
  Stats stats();
  const std::string& name() const { return name_; }

 private:
  void AddLocked(const std::string& key);
  // Moves delayed keys whose time has come into the queue; returns the next due time.
  std::optional<Clock::time_point> PromoteDueLocked(Clock::time_point now);
  std::optional<std::string> GetUntil(std::optional<Clock::time_point> deadline);

  std::string name_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  std::set<std::string> dirty_;       // queued or to be queued again after Done
  std::set<std::string> processing_;  // handed to a worker
  std::multimap<Clock::time_point, std::string> waiting_;
  std::map<std::string, Clock::time_point> waiting_at_;  // earliest due time per key
  ControllerRateLimiter limiter_;
  bool shutdown_ = false;
  Stats stats_;
};

}  // namespace kube
