#include "kube/leader_election.h"

#include <random>

#include "kube/error.h"
#include "kube/log.h"
#include "kube/time_format.h"

namespace kube {

namespace {

// The elector's client: one connection is all it needs, and no call may outlast a term.
TransportOptions ElectorTransport(const LeaderElector::Options& o) {
  TransportOptions t;
  t.max_connections = 2;
  t.request_timeout = o.renew_deadline;
  t.connect_timeout = o.renew_deadline;
  t.user_agent = o.user_agent;
  return t;
}

}  // namespace

LeaderElector::LeaderElector(const ClusterConfig& cluster, Options options)
    : options_(std::move(options)),
      client_(std::make_unique<Client>(cluster, ElectorTransport(options_))) {}

LeaderElector::~LeaderElector() {
  Stop();
  client_->Shutdown();
}

bool LeaderElector::IsLeader() const {
  return leading_ && Clock::now().time_since_epoch().count() < term_end_.load();
}

json LeaderElector::Call(HttpRequest request, Clock::time_point deadline) {
  request.deadline = deadline;
  return client_->CallSync(request);
}

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

bool LeaderElector::TryAcquireOrRenew(Clock::time_point deadline) {
  const auto now = std::chrono::system_clock::now();
  const std::string now_text = FormatMicroTime(now);
  const int duration_s = int((options_.lease_duration.count() + 999) / 1000);
  const auto& leases = resources::kLeases;
  const std::string& ns = options_.lease_namespace;
  json lease;
  try {
    lease = Call(requests::Get(leases, ns, options_.lease_name), deadline);
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
    Call(requests::Create(leases, ns, fresh), deadline);  // AlreadyExists: someone else won
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
  Call(requests::Update(leases, ns, lease), deadline);
  observed_holder_ = options_.identity;
  observed_renew_ = now_text;
  observed_at_ = Clock::now();
  return true;
}

void LeaderElector::Release() {
  auto deadline = Clock::now() + options_.renew_deadline;
  try {
    json lease = Call(
        requests::Get(resources::kLeases, options_.lease_namespace, options_.lease_name), deadline);
    if (lease["spec"].value("holderIdentity", "") != options_.identity) return;
    lease["spec"]["holderIdentity"] = "";
    lease["spec"]["leaseDurationSeconds"] = 1;
    lease["spec"]["renewTime"] = FormatMicroTime(std::chrono::system_clock::now());
    Call(requests::Update(resources::kLeases, options_.lease_namespace, lease), deadline);
    KLOG(kInfo, "leader-election") << options_.identity << " released " << options_.lease_name;
  } catch (const std::exception& e) {
    KLOG(kWarning, "leader-election")
        << "release of " << options_.lease_name << " failed: " << e.what();
  }
}

void LeaderElector::Loop() {
  std::mt19937 rng(std::random_device{}());
  std::uniform_real_distribution<double> jitter(1.0, 1.2);
  // One attempt that must end by `deadline`; on success the term runs the renew deadline
  // from the attempt's start (the renewTime it wrote is no earlier than that).
  auto attempt = [&](Clock::time_point deadline, const char* what) {
    auto started = Clock::now();
    try {
      if (!TryAcquireOrRenew(deadline)) return false;
    } catch (const std::exception& e) {
      if (leading_) {
        KLOG(kWarning, "leader-election") << what << ": " << e.what();
      } else {
        KLOG(kDebug, "leader-election") << what << ": " << e.what();
      }
      return false;
    }
    term_end_ = (started + options_.renew_deadline).time_since_epoch().count();
    return true;
  };
  auto term_end = [&] { return Clock::time_point(Clock::duration(term_end_.load())); };
  while (!stopping_) {
    // Campaign.
    while (!attempt(Clock::now() + options_.renew_deadline, "acquire")) {
      if (!SleepFor(Millis(int64_t(double(options_.retry_period.count()) * jitter(rng))))) return;
    }
    leading_ = true;
    KLOG(kInfo, "leader-election") << options_.identity << " leads " << options_.lease_name;
    if (options_.on_started_leading) options_.on_started_leading();
    // Renew every retry period until the term ends without a renewal, or we stop. Each
    // attempt is bounded by the term's end, so a hanging call cannot keep us leading.
    bool stopped = false;
    while (Clock::now() < term_end()) {
      auto left = std::chrono::duration_cast<Millis>(term_end() - Clock::now());
      if (!SleepFor(std::min(options_.retry_period, left))) {
        stopped = true;
        break;
      }
      if (Clock::now() < term_end()) attempt(term_end(), "renew");
    }
    leading_ = false;
    if (stopped) {
      Release();
    } else {
      KLOG(kWarning, "leader-election")
          << options_.identity << " could not renew " << options_.lease_name << " within "
          << options_.renew_deadline.count() << " ms";
    }
    KLOG(kInfo, "leader-election")
        << options_.identity << " stopped leading " << options_.lease_name;
    if (options_.on_stopped_leading) options_.on_stopped_leading();
    if (stopped) return;
  }
}

}  // namespace kube
