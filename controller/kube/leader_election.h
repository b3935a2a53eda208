// Leader election on a coordination.k8s.io/v1 Lease, as client-go does it: acquire when
// the lease is free or its holder has not renewed within the lease duration (measured
// on our own clock from when we last saw the record change), renew every retry period,
// give up leadership when renewals fail for the renew deadline, release on Stop.
//
// Threads and locks: Start runs the campaign on thread_, which makes every Lease call
// (blocking, through the shared Client) and runs on_started_leading, on_stopped_leading
// and on_new_leader; Stop (any other thread) wakes it through cv_ and joins it. mu_
// guards only the wake-up (cv_); leading_ and stopping_ are atomics read from any thread;
// the observed_* members belong to thread_.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "kube/backoff.h"
#include "kube/client.h"

namespace kube {

class LeaderElector {
 public:
  struct Options {
    std::string lease_namespace;
    std::string lease_name;
    std::string identity;
    Millis lease_duration{15000};
    Millis renew_deadline{10000};
    Millis retry_period{2000};
    std::function<void()> on_started_leading;
    std::function<void()> on_stopped_leading;
    std::function<void(const std::string& identity)> on_new_leader;
  };

  LeaderElector(Client& client, Options options);
  ~LeaderElector();

  // Starts campaigning in a background thread. After leadership is lost the elector
  // campaigns again (call Stop to end).
  void Start();
  // Stops; a leader releases the lease so another replica can take over at once.
  void Stop();
  bool IsLeader() const { return leading_; }

  // One attempt to acquire or renew; true when we hold the lease afterwards. Exposed
  // for tests; the loop calls it.
  bool TryAcquireOrRenew();

 private:
  void Loop();
  bool SleepFor(Millis d);  // false when stopping
  void Release();

  Client& client_;
  Options options_;
  std::atomic<bool> leading_{false};
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::thread thread_;
  // What we last saw of the lease, and when (our monotonic clock).
  std::string observed_holder_;
  std::string observed_renew_;
  Clock::time_point observed_at_{};
  std::string last_reported_leader_;
};

}  // namespace kube
