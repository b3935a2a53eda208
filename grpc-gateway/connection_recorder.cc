#include "grpc-gateway/connection_recorder.h"

#include <algorithm>

#include "kube/log.h"
#include "kube/text.h"

namespace iarnet {

ConnectionRecorder::ConnectionRecorder(Write write, std::chrono::milliseconds max_retry_delay)
    : write_(std::move(write)), max_retry_delay_(max_retry_delay) {
  writer_ = std::thread([this] { Run(); });
}

ConnectionRecorder::~ConnectionRecorder() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  writer_.join();
}

void ConnectionRecorder::Record(const ControlPlane& record) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    known_ = pending_ = record;
    ++generation_;
  }
  cv_.notify_all();
}

void ConnectionRecorder::Heard(const ControlPlane& record) {
  std::lock_guard<std::mutex> lock(mu_);
  heard_ = record;
}

std::optional<ControlPlane> ConnectionRecorder::LastHeard() const {
  std::lock_guard<std::mutex> lock(mu_);
  return heard_;
}

std::optional<ControlPlane> ConnectionRecorder::Known() const {
  std::lock_guard<std::mutex> lock(mu_);
  return known_;
}

void ConnectionRecorder::Forget() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    known_.reset();
    pending_.reset();
    heard_.reset();
    ++generation_;
  }
  cv_.notify_all();
}

void ConnectionRecorder::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  int failures = 0;
  while (true) {
    cv_.wait(lock, [this] { return stopping_ || pending_; });
    if (stopping_) return;
    ControlPlane record = *pending_;
    uint64_t generation = generation_;
    lock.unlock();
    std::string error;
    try {
      write_(record);
    } catch (const std::exception& e) {
      error = e.what();
    }
    lock.lock();
    if (error.empty()) {
      if (failures > 0) {
        KLOG(kInfo, "grpc") << "stored the health checks of " << kube::Quoted(record.provider_id)
                            << " again after " << failures << " failed attempts";
      }
      failures = 0;
      if (generation_ == generation) pending_.reset();
      continue;
    }
    if (failures++ == 0) {
      KLOG(kWarning, "grpc") << "cannot store the health check of "
                             << kube::Quoted(record.provider_id)
                             << " (answered from what the provider knows; retrying): " << error;
    }
    auto delay = std::min<std::chrono::milliseconds>(
        max_retry_delay_, std::chrono::milliseconds(250) * (1 << std::min(failures, 5)));
    cv_.wait_for(lock, delay, [&] { return stopping_ || generation_ != generation; });
  }
}

}  // namespace iarnet
