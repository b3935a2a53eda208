#include "controller/usage.h"

#include <set>

#include "controller/ledger.h"
#include "kube/error.h"
#include "kube/log.h"

namespace iarnet {
namespace {

const kube::ResourceType kPodMetrics{"metrics.k8s.io", "v1beta1", "pods", "PodMetrics", true};

size_t Index(UsageSource s) { return static_cast<size_t>(s); }

}  // namespace

std::string ToString(UsageSource source) {
  switch (source) {
    case UsageSource::kMetricsApi:
      return "metrics-api";
    case UsageSource::kKubeletSummary:
      return "kubelet-summary";
    case UsageSource::kRequests:
      return "requests";
  }
  return "requests";
}

UsageReport BuildUsageReport(const std::vector<OwnedPod>& pods, const MeasuredUsage* measured,
                             UsageSource source) {
  UsageReport report;
  report.source = source;
  for (const auto& p : pods) {
    if (!p.running) continue;
    Resources r = p.requests;  // the requests source, and GPUs in every source
    if (measured) {
      auto it = measured->find(p.name);
      r.cpu = it == measured->end() ? 0 : it->second.cpu;
      r.memory = it == measured->end() ? 0 : it->second.memory;
    }
    report.pods.push_back({p.name, p.instance_id, r});
    report.total = Add(report.total, r);
  }
  return report;
}

std::optional<std::string> Unmeasured(const std::vector<OwnedPod>& pods,
                                      const MeasuredUsage& measured) {
  std::string first;
  int missing = 0;
  for (const auto& p : pods) {
    if (!p.running || measured.count(p.name)) continue;
    if (missing++ == 0) first = p.name;
  }
  if (missing == 0) return std::nullopt;
  return "no sample for Pod " + first +
         (missing > 1 ? " and " + std::to_string(missing - 1) + " more" : "");
}

UsageCollector::UsageCollector(kube::Client& client, kube::Informer& pods, UsageOptions options)
    : client_(client), pods_(pods), options_(std::move(options)) {}

UsageReport UsageCollector::Current() {
  std::unique_lock lock(mu_);
  auto fresh = [&] {
    return have_report_ && std::chrono::steady_clock::now() - refreshed_at_ < options_.min_interval;
  };
  if (fresh()) return report_;
  if (refreshing_) {
    // Someone is asking the sources right now: the last report is good enough, and the
    // very first caller's wait is bounded by the upstream timeouts.
    if (have_report_) return report_;
    refreshed_.wait(lock, [&] { return !refreshing_; });
    return report_;
  }
  refreshing_ = true;
  lock.unlock();
  UsageReport report;
  try {
    report = Refresh();
  } catch (const std::exception& e) {
    // Refresh falls back by itself; this is only for the unforeseen (e.g. bad_alloc).
    report = BuildUsageReport(OurPods(), nullptr, UsageSource::kRequests);
    report.fallback_reason = e.what();
  }
  lock.lock();
  if (!have_report_ || report.source != report_.source) {
    KLOG(kInfo, "usage") << "usage source is now " << ToString(report.source)
                         << (report.fallback_reason.empty() ? ""
                                                            : " (" + report.fallback_reason + ")");
  }
  report_ = std::move(report);
  have_report_ = true;
  refreshed_at_ = std::chrono::steady_clock::now();
  refreshing_ = false;
  refreshed_.notify_all();
  return report_;
}

UsageReport UsageCollector::Refresh() {
  std::vector<OwnedPod> pods = OurPods();
  std::string reason;
  auto metrics = FromMetricsApi();
  if (auto* m = std::get_if<MeasuredUsage>(&metrics)) {
    if (auto missing = Unmeasured(pods, *m)) metrics = SourceError{*missing};
  }
  if (auto* m = std::get_if<MeasuredUsage>(&metrics))
    return BuildUsageReport(pods, m, UsageSource::kMetricsApi);
  reason = "metrics API: " + std::get<SourceError>(metrics).message;
  if (!options_.kubelet_summary) {
    UsageReport r = BuildUsageReport(pods, nullptr, UsageSource::kRequests);
    r.fallback_reason = reason + "; kubelet summary: turned off (usage.kubelet_summary)";
    return r;
  }
  auto summary = FromSummary(pods);
  if (auto* m = std::get_if<MeasuredUsage>(&summary)) {
    if (auto missing = Unmeasured(pods, *m)) summary = SourceError{*missing};
  }
  if (auto* m = std::get_if<MeasuredUsage>(&summary)) {
    UsageReport r = BuildUsageReport(pods, m, UsageSource::kKubeletSummary);
    r.fallback_reason = reason;
    return r;
  }
  reason += "; kubelet summary: " + std::get<SourceError>(summary).message;
  UsageReport r = BuildUsageReport(pods, nullptr, UsageSource::kRequests);
  r.fallback_reason = reason;
  return r;
}

std::vector<OwnedPod> UsageCollector::OurPods() const {
  std::vector<OwnedPod> out;
  for (const auto& p : pods_.List()) {
    if (auto owned = AsOwnedPod(*p)) out.push_back(std::move(*owned));
  }
  return out;
}

std::variant<MeasuredUsage, SourceError> UsageCollector::FromMetricsApi() {
  kube::ListOptions list;
  list.label_selector = kManagedSelector;
  kube::HttpRequest request = kube::requests::List(kPodMetrics, options_.namespace_, list);
  request.timeout = options_.upstream_timeout;
  CountCall(UsageSource::kMetricsApi);
  try {
    return UsageFromPodMetrics(client_.CallSync(request));
  } catch (const std::exception& e) {
    return SourceError{e.what()};
  }
}

std::variant<MeasuredUsage, SourceError> UsageCollector::FromSummary(
    const std::vector<OwnedPod>& pods) {
  std::set<std::string> nodes;
  for (const auto& p : pods) {
    if (p.running && !p.node.empty()) nodes.insert(p.node);
  }
  MeasuredUsage out;
  for (const auto& node : nodes) {
    kube::HttpRequest request;
    request.method = "GET";
    request.target = "/api/v1/nodes/" + node + "/proxy/stats/summary";
    request.what = "get the kubelet summary of node " + node;
    request.timeout = options_.upstream_timeout;
    CountCall(UsageSource::kKubeletSummary);
    try {
      auto measured = UsageFromSummary(client_.CallSync(request), options_.namespace_);
      if (auto* e = std::get_if<SourceError>(&measured))
        return SourceError{"node " + node + ": " + e->message};
      out.merge(std::get<MeasuredUsage>(measured));
    } catch (const std::exception& e) {
      return SourceError{e.what()};
    }
  }
  return out;
}

void UsageCollector::CountCall(UsageSource source) {
  std::lock_guard lock(mu_);
  ++calls_[Index(source)];
}

uint64_t UsageCollector::UpstreamCalls(UsageSource source) const {
  std::lock_guard lock(mu_);
  return calls_[Index(source)];
}

UsageSource UsageCollector::LastSource() const {
  std::lock_guard lock(mu_);
  return report_.source;
}

}  // namespace iarnet
