#include "kube/leader_election.h"

#include <random>

#include "kube/error.h"
#include "kube/log.h"
#include "kube/time_format.h"

namespace kube {

LeaderElector::LeaderElector(Client& client, Options options)
    : client_(client), options_(std::move(options)) {}

LeaderElector::~LeaderElector() { Stop(); }

void LeaderElector::Start() {
  stopping_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void LeaderElector::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_.exchange(true) && !thread_.joinable()) return;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

bool LeaderElector::SleepFor(Millis d) {
  std::unique_lock<std::mutex> lock(mu_);
  return !cv_.wait_for(lock, d, [this] { return stopping_.load(); });
}

bool LeaderElector::TryAcquireOrRenew() {
  const auto now = std::chrono::system_clock::now();
  const std::string now_text = FormatMicroTime(now);
  const int duration_s = int((options_.lease_duration.count() + 999) / 1000);
  const auto& leases = resources::kLeases;
  const std::string& ns = options_.lease_namespace;
  json lease;
  try {
    lease = client_.Get(leases, ns, options_.lease_name);
  } catch (const Error& e) {
    if (!e.IsNotFound()) throw;
    json fresh = {{"apiVersion", "coordination.k8s.io/v1"},
                  {"kind", "Lease"},
                  {"metadata", {{"name", options_.lease_name}, {"namespace", ns}}},
                  {"spec",
                   {{"holderIdentity", options_.identity},
                    {"leaseDurationSeconds", duration_s},
                    {"acquireTime", now_text},
                    {"renewTime", now_text},
                    {"leaseTransitions", 0}}}};
    client_.Create(leases, ns, fresh);  // AlreadyExists: someone else won the race
    observed_holder_ = options_.identity;
    observed_renew_ = now_text;
    observed_at_ = Clock::now();
    return true;
  }
  json& spec = lease["spec"];
  std::string holder = spec.value("holderIdentity", "");
  std::string renew = spec.value("renewTime", "");
  if (holder != observed_holder_ || renew != observed_renew_) {
    observed_holder_ = holder;
    observed_renew_ = renew;
    observed_at_ = Clock::now();
  }
  if (!holder.empty() && holder != last_reported_leader_) {
    last_reported_leader_ = holder;
    if (options_.on_new_leader) options_.on_new_leader(holder);
  }
  int held_for = spec.value("leaseDurationSeconds", duration_s);
  bool expired = Clock::now() > observed_at_ + std::chrono::seconds(held_for);
  if (!holder.empty() && holder != options_.identity && !expired) return false;

  if (holder != options_.identity) {
    spec["acquireTime"] = now_text;
    spec["leaseTransitions"] = spec.value("leaseTransitions", 0) + 1;
  }
  spec["holderIdentity"] = options_.identity;
  spec["leaseDurationSeconds"] = duration_s;
  spec["renewTime"] = now_text;
  // Conditional on the resourceVersion we read: a concurrent writer makes this a
  // Conflict, and nobody wins twice.
  client_.Update(leases, ns, lease);
  observed_holder_ = options_.identity;
  observed_renew_ = now_text;
  observed_at_ = Clock::now();
  return true;
}

void LeaderElector::Release() {
  try {
    json lease = client_.Get(resources::kLeases, options_.lease_namespace, options_.lease_name);
    if (lease["spec"].value("holderIdentity", "") != options_.identity) return;
    lease["spec"]["holderIdentity"] = "";
    lease["spec"]["leaseDurationSeconds"] = 1;
    lease["spec"]["renewTime"] = FormatMicroTime(std::chrono::system_clock::now());
    client_.Update(resources::kLeases, options_.lease_namespace, lease);
    KLOG(kInfo, "leader-election") << options_.identity << " released " << options_.lease_name;
  } catch (const std::exception& e) {
    KLOG(kWarning, "leader-election")
        << "release of " << options_.lease_name << " failed: " << e.what();
  }
}

void LeaderElector::Loop() {
  std::mt19937 rng(std::random_device{}());
  std::uniform_real_distribution<double> jitter(1.0, 1.2);
  while (!stopping_) {
    // Campaign.
    for (;;) {
      bool ok = false;
      try {
        ok = TryAcquireOrRenew();
      } catch (const std::exception& e) {
        KLOG(kDebug, "leader-election") << "acquire: " << e.what();
      }
      if (ok) break;
      if (!SleepFor(Millis(int64_t(double(options_.retry_period.count()) * jitter(rng))))) return;
    }
    leading_ = true;
    KLOG(kInfo, "leader-election") << options_.identity << " leads " << options_.lease_name;
    if (options_.on_started_leading) options_.on_started_leading();
    // Renew until a renewal fails for the whole renew deadline, or we stop.
    auto last_renew = Clock::now();
    bool stopped = false;
    while (true) {
      if (!SleepFor(options_.retry_period)) {
        stopped = true;
        break;
      }
      bool ok = false;
      try {
        ok = TryAcquireOrRenew();
      } catch (const std::exception& e) {
        KLOG(kWarning, "leader-election") << "renew: " << e.what();
      }
      if (ok) {
        last_renew = Clock::now();
      } else if (Clock::now() - last_renew >= options_.renew_deadline) {
        break;
      }
    }
    leading_ = false;
    if (stopped) Release();
    KLOG(kInfo, "leader-election")
        << options_.identity << " stopped leading " << options_.lease_name;
    if (options_.on_stopped_leading) options_.on_stopped_leading();
    if (stopped) return;
  }
}

}  // namespace kube
