// Real-time usage of the provider's Pods, for GetRealTimeUsage and GET /v1/usage.
//
// Sources, best first: the metrics API (metrics-server's PodMetrics of the labelled Pods
// in the provider's namespace); the kubelet summary through the API server's node proxy
// for the nodes that run our Pods; the requests of our Running Pods. A source that fails
// answers nonsense or has no sample for one of our Running Pods hands over to the next,
// and the report says which one served.
// Only Pods an IarnetWorkload of ours controls count; foreign Pods never do.
//
// Callers are many (every control plane poll, every REST call) and the sources are
// remote: at most one refresh runs per `min_interval`, whatever the number of callers;
// the others get the last report.
//
// Threads and locks: Current runs on the caller's thread (gRPC and REST handlers); the
// caller that finds the report stale refreshes it on its own thread (the upstream calls,
// outside mu_) while the others wait on refreshed_ or take the last report. mu_ guards
// refreshing_, have_report_, report_, refreshed_at_ and calls_.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "api/vocabulary.h"
#include "controller/usage_sources.h"
#include "kube/client.h"
#include "kube/informer.h"

namespace iarnet {

enum class UsageSource { kMetricsApi, kKubeletSummary, kRequests };
std::string ToString(UsageSource source);  // "metrics-api", "kubelet-summary", "requests"
inline constexpr UsageSource kAllUsageSources[] = {
    UsageSource::kMetricsApi, UsageSource::kKubeletSummary, UsageSource::kRequests};

struct PodUsage {
  std::string pod;
  std::string instance_id;
  Resources usage;
};

struct UsageReport {
  Resources total;
  UsageSource source = UsageSource::kRequests;
  std::string fallback_reason;  // why the better sources did not serve; empty if none
  std::vector<PodUsage> pods;
};

// Builds the report from our Pods and what a source measured. Running Pods only; GPU is
// the devices they hold. Pure.
UsageReport BuildUsageReport(const std::vector<OwnedPod>& pods, const MeasuredUsage* measured,
                             UsageSource source);

// Why `measured` cannot stand for our Running Pods: it has no sample for some of them
// (a Pod just started, or on a node the source does not reach); nullopt when complete.
// A source that measured only part of the Pods would under-report, so it does not serve.
std::optional<std::string> Unmeasured(const std::vector<OwnedPod>& pods,
                                      const MeasuredUsage& measured);

struct UsageOptions {
  std::string namespace_;
  bool kubelet_summary = true;  // off: no node proxy calls (and no RBAC for them)
  std::chrono::milliseconds min_interval{1000};
  std::chrono::milliseconds upstream_timeout{3000};
};

class UsageCollector {
 public:
  UsageCollector(kube::Client& client, kube::Informer& pods, UsageOptions options);

  // The latest report, refreshed when older than min_interval.
  UsageReport Current();

  // Upstream calls made so far for `source` (metrics API lists, summary fetches).
  uint64_t UpstreamCalls(UsageSource source) const;
  // The source of the latest report ("requests" before the first).
  UsageSource LastSource() const;

 private:
  UsageReport Refresh();
  std::vector<OwnedPod> OurPods() const;
  std::variant<MeasuredUsage, SourceError> FromMetricsApi();
  std::variant<MeasuredUsage, SourceError> FromSummary(const std::vector<OwnedPod>& pods);
  void CountCall(UsageSource source);

  kube::Client& client_;
  kube::Informer& pods_;
  const UsageOptions options_;

  mutable std::mutex mu_;
  std::condition_variable refreshed_;
  bool refreshing_ = false;
  bool have_report_ = false;
  UsageReport report_;
  std::chrono::steady_clock::time_point refreshed_at_;
  uint64_t calls_[3] = {0, 0, 0};
};

}  // namespace iarnet
