#include "grpc-gateway/deploy_verdict.h"

#include <set>

#include "api/iarnet_types.h"
#include "controller/workload_plan.h"

namespace iarnet {

bool CannotStart(const std::string& waiting_reason) {
  // A pull error may clear on a retry when a registry hiccups, but the caller is waiting
  // now: it gets the reason rather than a success that fails later.
  static const std::set<std::string> kStartErrors = {"CreateContainerConfigError",
                                                     "CreateContainerError", "RunContainerError"};
  return IsImagePullFailure(waiting_reason) || kStartErrors.count(waiting_reason) > 0;
}

DeployVerdict JudgeDeploy(const kube::json* workload, const std::string& uid, const kube::json* pod,
                          bool* seen) {
  if (!workload) return {*seen ? DeployOutcome::kGone : DeployOutcome::kPending, ""};
  const kube::json& meta = workload->value("metadata", kube::json::object());
  if (!uid.empty() && meta.value("uid", "") != uid) return {DeployOutcome::kGone, ""};
  *seen = true;
  const kube::json& s = workload->value("status", kube::json::object());
  auto phase = ParsePhase(s.value("phase", ""));
  if (phase == Phase::kRejected) return {DeployOutcome::kRejected, ""};
  if (phase == Phase::kFailed) return {DeployOutcome::kFailed, ""};
  if (phase == Phase::kSucceeded) return {DeployOutcome::kRunning, ""};  // it ran, and ended well
  if (!pod || uid.empty()) return {DeployOutcome::kPending, ""};
  PodObservation p = ObservePod(*pod, uid);
  if (!p.owned) return {DeployOutcome::kPending, ""};
  if (CannotStart(p.waiting_reason)) {
    return {DeployOutcome::kCannotRun,
            p.waiting_reason + (p.waiting_message.empty() ? "" : ": " + p.waiting_message)};
  }
  if (p.exit_code && *p.exit_code != 0) {
    return {DeployOutcome::kCannotRun,
            "its container exited with code " + std::to_string(*p.exit_code) +
                (p.terminated_reason.empty() ? "" : " (" + p.terminated_reason + ")")};
  }
  if (p.phase == "Failed") {
    return {DeployOutcome::kCannotRun, "its Pod failed" +
                                           (p.reason.empty() ? "" : ": " + p.reason) +
                                           (p.message.empty() ? "" : ": " + p.message)};
  }
  if (p.running || p.phase == "Succeeded") return {DeployOutcome::kRunning, ""};
  return {DeployOutcome::kPending, ""};
}

}  // namespace iarnet
