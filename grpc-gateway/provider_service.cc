#include "grpc-gateway/provider_service.h"

#include "grpc-gateway/deploy_verdict.h"

#include "api/names.h"
#include "controller/iarnet_resources.h"
#include "controller/workload_plan.h"
#include "grpc-gateway/deploy_request.h"
#include "grpc-gateway/request_checks.h"
#include "kube/error.h"
#include "kube/log.h"
#include "kube/text.h"
#include "kube/time_format.h"

namespace iarnet {
namespace {

namespace pb = resource::provider;

void Fill(const Resources& r, resource::Info* out) {
  out->set_cpu(r.cpu);
  out->set_memory(r.memory);
  out->set_gpu(r.gpu);
}

void FillCapacity(const Ledger& l, resource::Capacity* out) {
  Fill(l.total, out->mutable_total());
  Fill(l.used, out->mutable_used());
  Fill(l.available, out->mutable_available());
}

template <class Languages>
void FillLanguages(const ProviderSpec& spec, Languages* out) {
  for (const auto& l : spec.languages) {
    if (!l.image.empty()) out->Add(static_cast<common::Language>(ToProto(l.language)));
  }
}

grpc::Status ToStatus(const ConnectionOutcome& o) {
  switch (o.code) {
    case ConnectionOutcome::Code::kOk:
      return grpc::Status::OK;
    case ConnectionOutcome::Code::kInvalidArgument:
      return {grpc::StatusCode::INVALID_ARGUMENT, o.error};
    case ConnectionOutcome::Code::kPermissionDenied:
      return {grpc::StatusCode::PERMISSION_DENIED, o.error};
  }
  return {grpc::StatusCode::INTERNAL, o.error};
}

grpc::Status Unavailable(const std::exception& e) {
  return {grpc::StatusCode::UNAVAILABLE, std::string("the Kubernetes API: ") + e.what()};
}

// The merge patch that stores `cp` (null clears it), conditional on `resource_version`.
kube::json ControlPlanePatch(const ControlPlane& cp, const std::string& resource_version) {
  kube::json value = nullptr;
  if (!cp.provider_id.empty()) {
    value = {{"providerId", cp.provider_id},
             {"connectedAt", cp.connected_at},
             {"lastHealthCheck", cp.last_health_check},
             {"address", cp.address.empty() ? kube::json(nullptr) : kube::json(cp.address)},
             {"healthCheckIntervalSeconds", cp.health_check_interval_seconds
                                                ? kube::json(cp.health_check_interval_seconds)
                                                : kube::json(nullptr)}};
  }
  return {{"metadata", {{"resourceVersion", resource_version}}},
          {"status", {{"controlPlane", value}}}};
}

}  // namespace

ProviderService::ProviderService(kube::Client& client, Caches& caches, UsageCollector& usage,
                                 ChangeNotifier& workload_changes, Metrics& metrics,
                                 ServiceOptions options)
    : client_(client),
      caches_(caches),
      usage_(usage),
      changes_(workload_changes),
      metrics_(metrics),
      options_(options),
      ns_(caches.options().namespace_),
      recorder_([this](const ControlPlane& record) { StoreHealthCheck(record); }) {
  metrics_.Define("iarnet_deploys_total", Metrics::Type::kCounter,
                  "Deploy calls by result (success, rejected, invalid, unauthorized, conflict, "
                  "failed, timeout, error).");
}

ControlPlane ProviderService::KnownControlPlane() {
  auto p = caches_.providers().Get(ns_, caches_.options().provider_name);
  return Known(p ? ProviderFromJson(*p).status.control_plane : ControlPlane{}, recorder_.Known());
}

void ProviderService::StoreHealthCheck(const ControlPlane& record) {
  auto checked = kube::ParseTime(record.last_health_check);
  if (!checked) return;
  UpdateConnection([&](const ControlPlane& cp, SystemTime) {
    // Only while the same control plane holds the record: a Disconnect or another
    // control plane that took over since wins.
    if (cp.provider_id != record.provider_id) return ConnectionOutcome{};
    ConnectionOutcome o = DecideHealthCheck(cp, record.provider_id, *checked, options_.connection);
    // The interval as measured on the checks heard (HealthCheck: Heard).
    if (o.write) o.write->health_check_interval_seconds = record.health_check_interval_seconds;
    return o;
  });
}

std::string ProviderService::ConnectedId() {
  return iarnet::ConnectedId(Known(KnownControlPlane(), recorder_.LastHeard()),
                             std::chrono::system_clock::now(), options_.connection);
}

std::string ProviderService::Refusal(const std::string& provider_id) {
  auto o = Authorize(Known(KnownControlPlane(), recorder_.LastHeard()), provider_id,
                     std::chrono::system_clock::now(), options_.connection);
  return o.ok ? "" : o.error;
}

template <class Decide>
ConnectionOutcome ProviderService::UpdateConnection(Decide decide) {
  const std::string& name = caches_.options().provider_name;
  for (int attempt = 0;; ++attempt) {
    kube::json provider = client_.Get(kProviderResource, ns_, name);
    ControlPlane cp = ProviderFromJson(provider).status.control_plane;
    ConnectionOutcome o = decide(cp, std::chrono::system_clock::now());
    if (!o.ok || !o.write) return o;
    kube::PatchOptions po;
    po.subresource = "status";
    try {
      client_.Patch(kProviderResource, ns_, name, kube::PatchType::kMerge,
                    ControlPlanePatch(*o.write, provider["metadata"].value("resourceVersion", "")),
                    po);
      return o;
    } catch (const kube::Error& e) {
      // The controller writes the ledger into the same status: a conflict is routine.
      if (!e.IsConflict() || attempt >= 20) throw;
    }
  }
}

grpc::Status ProviderService::Connect(const pb::ConnectRequest& r, pb::ConnectResponse* out,
                                      const CallContext& context) {
  const std::string& id = r.provider_id();
  // Kept for host.internal in component Pods (workload_plan.h: HostAliasesFor) only when
  // Pods can reach it; otherwise said once, with what to configure.
  std::string address = context.peer_ip;
  auto unreachable =
      address.empty() ? std::optional<std::string>("unknown") : UnreachableFromPods(address);
  if (unreachable) address.clear();
  try {
    auto o = UpdateConnection([&](const ControlPlane& cp, SystemTime now) {
      ConnectionOutcome d = DecideConnect(cp, id, now, options_.connection);
      if (d.write) d.write->address = address;
      return d;
    });
    out->set_success(o.ok);
    out->set_error(o.error);
    if (o.ok) {
      recorder_.Forget();  // the stored record is the truth again
      Tally([&](HealthCheckTally& t) { t.Set(id); });
      KLOG(kInfo, "grpc") << "control plane " << kube::Quoted(id) << " connected"
                          << (address.empty() ? "" : " from " + address);
      bool configured = MapsHostInternal(caches_.CurrentProviderSpec().host_aliases);
      if (unreachable && !configured && !warned_unreachable_.exchange(true)) {
        KLOG(kWarning, "grpc") << "the control plane connected from "
                               << (context.peer_ip.empty() ? "an unknown address" : context.peer_ip)
                               << ", " << *unreachable
                               << ", which component Pods cannot reach: host.internal is not "
                                  "mapped in them; set provider.host_aliases (Helm: "
                                  "provider.hostAliases) to the control plane's address";
      }
    } else {
      KLOG(kInfo, "grpc") << "Connect from " << kube::Quoted(id) << " refused: " << o.error;
    }
  } catch (const kube::Error& e) {
    out->set_success(false);
    out->set_error(std::string("cannot record the connection: ") + e.what());
  }
  out->mutable_provider_type()->set_name("kubernetes");
  FillLanguages(caches_.CurrentProviderSpec(), out->mutable_supported_languages());
  return grpc::Status::OK;
}

grpc::Status ProviderService::Disconnect(const pb::DisconnectRequest& r, pb::DisconnectResponse*) {
  try {
    auto o = UpdateConnection([&](const ControlPlane& cp, SystemTime now) {
      return DecideDisconnect(cp, r.provider_id(), now, options_.connection);
    });
    if (o.ok && o.write) {
      recorder_.Forget();
      Tally([&](HealthCheckTally& t) { t.Set(""); });
      KLOG(kInfo, "grpc") << "control plane " << kube::Quoted(r.provider_id()) << " disconnected";
    }
    return ToStatus(o);
  } catch (const kube::Error& e) {
    return Unavailable(e);
  }
}

grpc::Status ProviderService::HealthCheck(const pb::HealthCheckRequest& r,
                                          pb::HealthCheckResponse* out) {
  const std::string& id = r.provider_id();
  auto now = std::chrono::system_clock::now();
  // Answered from what the provider knows: the connected control plane's check never
  // waits for, or fails with, its bookkeeping write (stored in the background; an API
  // server or etcd outage must not cost a check).
  // `stored`: the record as it is or will be stored; `alive`: the same, with the last
  // time the provider heard the control plane (what decides who is connected).
  ControlPlane stored = KnownControlPlane();
  ControlPlane alive = Known(stored, recorder_.LastHeard());
  ConnectionOutcome o = DecideHealthCheck(alive, id, now, options_.connection);
  bool connected =
      alive.provider_id == id && !iarnet::ConnectedId(alive, now, options_.connection).empty();
  if (o.ok && connected) {
    // The interval is measured on what this replica heard (the stored time lags by up to
    // health_write_every), and stored with the next write.
    ControlPlane heard = Heard(alive, now);
    recorder_.Heard(heard);
    // Stored at most every health_write_every, judged on what is stored, in the background.
    // (`connected` implies `stored` names the caller: Known never swaps the id.)
    ConnectionOutcome w = DecideHealthCheck(stored, id, now, options_.connection);
    if (w.ok && w.write) {
      w.write->health_check_interval_seconds = heard.health_check_interval_seconds;
      recorder_.Record(*w.write);
    }
  } else if (o.ok && o.write) {
    // Taking a free slot is a decision between control planes: stored before the answer.
    try {
      o = UpdateConnection([&](const ControlPlane& cp, SystemTime t) {
        return DecideHealthCheck(cp, id, t, options_.connection);
      });
      if (o.ok) {
        recorder_.Forget();
        Tally([&](HealthCheckTally& t) { t.Set(id); });
        KLOG(kInfo, "grpc") << "control plane " << kube::Quoted(id)
                            << " connected by its health check (no other was connected)";
      }
    } catch (const kube::Error& e) {
      return Unavailable(e);
    }
  }
  Tally([&](HealthCheckTally& t) { o.ok ? t.Answered(id) : t.Refused(id); });
  if (!o.ok) return ToStatus(o);
  ProviderSpec spec = caches_.CurrentProviderSpec();
  FillCapacity(caches_.CurrentLedger(), out->mutable_capacity());
  auto* tags = out->mutable_resource_tags();
  tags->set_cpu(spec.resource_tags.cpu);
  tags->set_gpu(spec.resource_tags.gpu);
  tags->set_memory(spec.resource_tags.memory);
  tags->set_camera(spec.resource_tags.camera);
  FillLanguages(spec, out->mutable_supported_languages());
  return grpc::Status::OK;
}

grpc::Status ProviderService::GetCapacity(const pb::GetCapacityRequest& r,
                                          pb::GetCapacityResponse* out) {
  if (auto why = Refusal(r.provider_id()); !why.empty())
    return {grpc::StatusCode::PERMISSION_DENIED, why};
  FillCapacity(caches_.CurrentLedger(), out->mutable_capacity());
  return grpc::Status::OK;
}

grpc::Status ProviderService::GetAvailable(const pb::GetAvailableRequest& r,
                                           pb::GetAvailableResponse* out) {
  if (auto why = Refusal(r.provider_id()); !why.empty())
    return {grpc::StatusCode::PERMISSION_DENIED, why};
  Fill(caches_.CurrentLedger().available, out->mutable_available());
  return grpc::Status::OK;
}

grpc::Status ProviderService::GetRealTimeUsage(const pb::GetRealTimeUsageRequest& r,
                                               pb::GetRealTimeUsageResponse* out) {
  if (auto why = Refusal(r.provider_id()); !why.empty())
    return {grpc::StatusCode::PERMISSION_DENIED, why};
  Fill(usage_.Current().total, out->mutable_usage());
  return grpc::Status::OK;
}

kube::json ProviderService::CallBy(kube::HttpRequest request,
                                   std::chrono::steady_clock::time_point deadline) {
  request.deadline = deadline;
  return client_.CallSync(request);
}

void ProviderService::RecordAnswered(const std::string& name, const std::string& uid,
                                     std::chrono::steady_clock::time_point deadline) {
  auto cached = caches_.workloads().Get(ns_, name);
  if (cached && (*cached)["metadata"]
                        .value("annotations", kube::json::object())
                        .value(kDeployAnnotation, "") == kDeployAnswered)
    return;  // a retried Deploy of one that answered
  // The uid makes the patch fail on a later workload of the same name.
  kube::json patch = {
      {"metadata", {{"uid", uid}, {"annotations", {{kDeployAnnotation, kDeployAnswered}}}}}};
  kube::HttpRequest r = kube::requests::Patch(kWorkloadResource, ns_, name, kube::PatchType::kMerge,
                                              patch.dump(), {});
  caches_.workloads().Assume(CallBy(std::move(r), deadline));
}

void ProviderService::DeleteWorkload(const std::string& name, const std::string& uid) {
  try {
    client_.Delete(kWorkloadResource, ns_, name);
    // Never admitted, it holds no charge: our finalizer has nothing to guard, and with no
    // leader running nobody else would remove it. Once admitted, the release is the
    // controller's (the resourceVersion test makes the two never cross).
    for (int attempt = 0; attempt < 3; ++attempt) {
      Workload w = WorkloadFromJson(client_.Get(kWorkloadResource, ns_, name));
      if (w.metadata.uid != uid || w.status.admission) return;
      kube::json ops = FinalizerPatch(w.metadata.resource_version, w.metadata.finalizers, false);
      try {
        client_.Patch(kWorkloadResource, ns_, name, kube::PatchType::kJson, ops);
        return;
      } catch (const kube::Error& e) {
        if (!e.IsConflict() && !e.IsInvalid()) throw;  // a failed test is 422 or 409
      }
    }
  } catch (const kube::Error& e) {
    if (!e.IsNotFound()) {
      KLOG(kWarning, "grpc") << "deleting workload " << name << ": " << e.what();
    }
  }
}

namespace {

// One line per Deploy or Undeploy: what, for whom, the outcome and how long it took.
void LogCall(const char* rpc, const std::string& instance_id, const std::string& provider_id,
             const std::string& result, std::chrono::steady_clock::time_point started,
             const std::string& error) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  started)
                .count();
  KLOG(kInfo, "grpc") << rpc << " " << kube::Quoted(instance_id)
                      << (provider_id.empty() ? "" : " from " + kube::Quoted(provider_id)) << ": "
                      << result << " in " << ms << " ms" << (error.empty() ? "" : ": " + error);
}

}  // namespace

void ProviderService::Tally(const std::function<void(HealthCheckTally&)>& change) {
  std::lock_guard<std::mutex> lock(tally_mu_);
  change(tally_);
}

void ProviderService::LogConnectionSummary() {
  std::string connected = ConnectedId();
  std::vector<std::string> lines;
  Tally([&](HealthCheckTally& t) { lines = t.Lines(std::chrono::system_clock::now(), connected); });
  for (const auto& line : lines) KLOG(kInfo, "grpc") << line;
}

grpc::Status ProviderService::Deploy(const pb::DeployRequest& r, pb::DeployResponse* out) {
  auto started = std::chrono::steady_clock::now();
  std::string result = "error";
  out->set_error(DeployLocked(r, &result));
  metrics_.Add("iarnet_deploys_total", {{"result", result}});
  LogCall("Deploy", r.instance_id(), r.provider_id(), result, started, out->error());
  return grpc::Status::OK;
}

std::string ProviderService::DeployLocked(const pb::DeployRequest& r, std::string* result) {
  if (auto why = Refusal(r.provider_id()); !why.empty()) {
    *result = "unauthorized";
    return why;
  }
  std::string provider_id = r.provider_id().empty() ? ConnectedId() : r.provider_id();
  auto planned = PlanDeploy(r, caches_.CurrentProviderSpec(), provider_id);
  if (auto* bad = std::get_if<DeployInvalid>(&planned)) {
    *result = "invalid";
    return bad->message;
  }
  const DeployPlan& plan = std::get<DeployPlan>(planned);
  const std::string& id = plan.spec.instance_id;
  // Every call below, and the wait, end by this deadline.
  auto deadline = std::chrono::steady_clock::now() + options_.deploy_timeout;
  bool created = false;
  std::string uid;
  try {
    kube::json made = CallBy(
        kube::requests::Create(kWorkloadResource, ns_, WorkloadManifest(plan, ns_)), deadline);
    uid = made["metadata"].value("uid", "");
    created = true;
    // The controller reconciles it now rather than when the watch brings it.
    caches_.workloads().Assume(std::move(made));
  } catch (const kube::Error& e) {
    if (!e.IsAlreadyExists()) {
      *result = e.IsInvalid() ? "invalid" : "error";
      return "cannot create the workload for " + id + ": " + e.what();
    }
  }
  if (!created) {
    // A retried Deploy: the same request is the same workload, charged once.
    try {
      kube::json existing =
          CallBy(kube::requests::Get(kWorkloadResource, ns_, plan.name), deadline);
      Workload w = WorkloadFromJson(existing);
      if (w.spec.instance_id != id) {
        *result = "conflict";
        return "cannot deploy " + id + ": its workload name " + plan.name +
               " is taken by instance " + w.spec.instance_id;
      }
      if (!SameDeploy(w.spec, plan.spec)) {
        *result = "conflict";
        return "instance " + id + " is already deployed with a different spec; undeploy it first";
      }
      if (w.metadata.deleting) {
        *result = "conflict";
        return "instance " + id + " is being undeployed; deploy it again once that finished";
      }
      uid = w.metadata.uid;
    } catch (const kube::Error& e) {
      return "cannot read the workload for " + id + ": " + e.what();
    }
  }

  // The verdict (deploy_verdict.h) within the timeout.
  std::string key = ns_ + "/" + plan.name;
  DeployVerdict v;
  bool cached = false;
  std::string judged;  // the versions last judged: other workloads' changes wake us too
  changes_.WaitUntil(deadline, [&] {
    std::string versions = caches_.workloads().Version(key) + "/" + caches_.pods().Version(key);
    if (versions != judged || versions == "/") {
      auto workload = caches_.workloads().Get(key);
      auto pod = caches_.pods().Get(key);
      v = JudgeDeploy(workload.get(), uid, pod.get(), &cached);
      judged = versions;
    }
    return v.outcome != DeployOutcome::kPending;
  });
  auto status = [&] {
    auto o = caches_.workloads().Get(key);
    return o ? (*o).value("status", kube::json::object()) : kube::json::object();
  };
  // A request that does not end with a running component leaves nothing behind, and a
  // workload a Deploy reported as failed must never run, whoever created it: a retried
  // Deploy finds the workload an interrupted one made, and the control plane never uses
  // an id whose Deploy failed.
  auto give_up = [&](const std::string& outcome, const std::string& message) {
    *result = outcome;
    DeleteWorkload(plan.name, uid);
    return message;
  };
  switch (v.outcome) {
    case DeployOutcome::kRunning:
      // Recorded before the answer: a workload whose Deploy never answered is deleted
      // once that Deploy must have ended (the provider died meanwhile), so this mark is
      // what keeps a component the control plane was told is deployed.
      try {
        RecordAnswered(plan.name, uid, deadline);
      } catch (const kube::Error& e) {
        return give_up("error", "cannot record the Deploy of " + id + ": " + e.what());
      }
      *result = "success";
      return "";
    case DeployOutcome::kCannotRun:
      return give_up("failed", "instance " + id + " cannot run: " + v.why);
    case DeployOutcome::kRejected:
      // The reason says which: InsufficientCapacity (the ledger) or NoNodeFits (no one
      // node has room now), UnsupportedLanguage, ...
      return give_up("rejected", "cannot deploy " + id + ": " +
                                     status().value("reason", "Rejected") + ": " +
                                     status().value("message", "rejected"));
    case DeployOutcome::kFailed: {
      auto s = status();
      return give_up("failed", "instance " + id + " failed: " + s.value("reason", "") + ": " +
                                   s.value("message", ""));
    }
    case DeployOutcome::kGone:
      *result = "error";
      return "the workload of " + id + " was deleted before it ran";
    case DeployOutcome::kPending:
      break;
  }
  std::string phase = status().value("phase", "");
  return give_up("timeout", "instance " + id + " was not running within " +
                                std::to_string(options_.deploy_timeout.count()) + " ms (phase " +
                                (phase.empty() ? "none" : phase) +
                                "); is the operator's leader running?");
}

grpc::Status ProviderService::Undeploy(const pb::UndeployRequest& r, pb::UndeployResponse* out) {
  auto started = std::chrono::steady_clock::now();
  std::string result = "error";
  out->set_error(UndeployLocked(r, &result));
  LogCall("Undeploy", r.instance_id(), r.provider_id(), result, started, out->error());
  return grpc::Status::OK;
}

std::string ProviderService::UndeployLocked(const pb::UndeployRequest& r, std::string* result) {
  if (auto why = Refusal(r.provider_id()); !why.empty()) {
    *result = "unauthorized";
    return why;
  }
  const std::string& id = r.instance_id();
  if (auto problem = IdProblem("instance_id", id)) {
    *result = "invalid";
    return "invalid Undeploy: " + *problem;
  }
  std::string name = WorkloadNameFor(id);
  std::string uid;
  try {
    kube::json w = client_.Get(kWorkloadResource, ns_, name);
    if (w["spec"].value("instanceId", "") != id) {  // not this id's
      *result = "unknown";
      return "";
    }
    uid = w["metadata"].value("uid", "");
    kube::DeleteOptions o;
    o.precondition_uid = uid;
    client_.Delete(kWorkloadResource, ns_, name, o);
  } catch (const kube::Error& e) {
    if (e.IsNotFound()) {  // unknown id: already gone
      *result = "unknown";
      return "";
    }
    return "cannot undeploy " + id + ": " + e.what();
  }
  // Wait for the release: the finalizer goes once the charge is released.
  std::string key = ns_ + "/" + name;
  auto deadline = std::chrono::steady_clock::now() + options_.undeploy_timeout;
  bool cached = true;  // it existed a moment ago: absent from the cache means gone
  bool released = changes_.WaitUntil(deadline, [&] {
    auto workload = caches_.workloads().Get(key);
    if (JudgeDeploy(workload.get(), uid, nullptr, &cached).outcome != DeployOutcome::kGone)
      return false;
    try {  // the cache says gone: confirm
      kube::json w = client_.Get(kWorkloadResource, ns_, name);
      return w["metadata"].value("uid", "") != uid;
    } catch (const kube::Error& e) {
      return e.IsNotFound();
    }
  });
  if (released) {
    *result = "success";
    return "";
  }
  *result = "timeout";
  return "instance " + id + " is still being released after " +
         std::to_string(options_.undeploy_timeout.count()) +
         " ms; it will finish in the background";
}

}  // namespace iarnet
