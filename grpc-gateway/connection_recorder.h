// Stores the connected control plane's health checks in IarnetProvider status off the
// caller's path. The control plane drops a provider at its first failed HealthCheck and
// never reconnects by itself (PROTOCOL.md), so a check is answered from what the provider
// knows (the cached record, and the checks it answered since) and its bookkeeping write
// is retried here until the API server takes it or a newer check replaces it; an API
// server or etcd outage then costs no check.
//
// Threads and locks: Record, Known and Forget run on the callers' threads (the gRPC and
// REST handlers); one writer thread, started by the constructor and joined by the
// destructor, makes the writes. mu_ guards every member below it and is never held across
// a write (a leaf lock).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include "api/iarnet_types.h"

namespace iarnet {

class ConnectionRecorder {
 public:
  // Stores one record conditionally (the caller re-reads and re-decides); throws
  // kube::Error when the API server did not take it.
  using Write = std::function<void(const ControlPlane& record)>;

  explicit ConnectionRecorder(Write write,
                              std::chrono::milliseconds max_retry_delay = std::chrono::seconds(5));
  ~ConnectionRecorder();
  ConnectionRecorder(const ConnectionRecorder&) = delete;
  ConnectionRecorder& operator=(const ConnectionRecorder&) = delete;

  // A check answered with this record: stored in the background (the newest wins).
  void Record(const ControlPlane& record);
  // The connected control plane was heard at `record.last_health_check` (every answered
  // check): what keeps it connected in the provider's eyes while nothing can be stored.
  void Heard(const ControlPlane& record);
  std::optional<ControlPlane> LastHeard() const;
  // The newest record handed in, stored or not (nullopt after Forget).
  std::optional<ControlPlane> Known() const;
  // A Connect or Disconnect stored its own record: what was known, or still to be
  // written, is void.
  void Forget();

 private:
  void Run();

  Write write_;
  std::chrono::milliseconds max_retry_delay_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::optional<ControlPlane> known_, pending_, heard_;
  uint64_t generation_ = 0;  // counts Record and Forget calls
  bool stopping_ = false;
  std::thread writer_;
};

}  // namespace iarnet
