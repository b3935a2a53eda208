// Leader election on a coordination.k8s.io/v1 Lease, as client-go does it: acquire when
// the lease is free or its holder has not renewed within the lease duration (measured
// on our own clock from when we last saw the record change), renew every retry period,
// give up leadership when renewals fail for the renew deadline, release on Stop.
//
// Leadership is bounded in time, not only by what the last call returned. A term lasts
// the renew deadline from the start of the attempt that last acquired or renewed the
// lease; the other replicas wait the (longer) lease duration from when they saw that
// renewal, so a term ends before anyone else can acquire. IsLeader() reads the clock:
// it turns false when the term is over, even while this process was stopped (SIGSTOP) or
// a renewal hangs, so a caller that checks it right before each write never writes
// after its lease could have passed to another. Every Lease call is bounded by the
// term's end, and goes through the elector's own client (its own connection and slots),
// so a busy or stalled shared client cannot hold a renewal up.
//
// Threads and locks: Start runs the campaign on thread_, which makes every Lease call
// (blocking, through client_) and runs on_started_leading, on_stopped_leading and
// on_new_leader; Stop (any other thread) wakes it through cv_ and joins it. mu_ guards
// only the wake-up (cv_); leading_, term_end_ and stopping_ are atomics read from any
// thread; the observed_* members belong to thread_.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
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
    Millis renew_deadline{10000};  // must be less than lease_duration
    Millis retry_period{2000};
    std::string user_agent = "kube-client leader-election";
    std::function<void()> on_started_leading;
    std::function<void()> on_stopped_leading;
    std::function<void(const std::string& identity)> on_new_leader;
  };

  // Connects to `cluster` with a client of its own.
  LeaderElector(const ClusterConfig& cluster, Options options);
  ~LeaderElector();

  // Starts campaigning in a background thread. After leadership is lost the elector
  // campaigns again (call Stop to end).
  void Start();
  // Stops; a leader releases the lease so another replica can take over at once.
  void Stop();
  // True while this replica leads and its term has not ended by the clock.
  bool IsLeader() const;

  // One attempt to acquire or renew, all of whose calls end by `deadline`; true when we
  // hold the lease afterwards. Exposed for tests; the loop calls it.
  bool TryAcquireOrRenew(Clock::time_point deadline);

 private:
  void Loop();
  bool SleepFor(Millis d);  // false when stopping
  void Release();
  json Call(HttpRequest request, Clock::time_point deadline);

  Options options_;
  std::unique_ptr<Client> client_;
  std::atomic<bool> leading_{false};
  std::atomic<Clock::rep> term_end_{0};  // Clock ticks since its epoch
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
