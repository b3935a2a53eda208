// When a Deploy answers: success only once the container runs; the failures the cluster
// already shows, at once; pending otherwise.
#include <catch2/catch.hpp>

#include "grpc-gateway/deploy_verdict.h"

using iarnet::DeployOutcome;
using iarnet::JudgeDeploy;
using kube::json;

namespace {

const std::string kUid = "uid-1";

json Workload(const std::string& phase, const std::string& uid = kUid) {
  json w = {{"metadata", {{"name", "w"}, {"uid", uid}}}};
  if (!phase.empty()) w["status"] = {{"phase", phase}, {"podName", "w"}};
  return w;
}

// The workload's Pod, its main container in `state` (e.g. {"running": {...}}).
json Pod(const json& state, const std::string& phase = "Pending", const std::string& owner = kUid) {
  json ref = {{"apiVersion", "iarnet.io/v1alpha1"},
              {"kind", "IarnetWorkload"},
              {"name", "w"},
              {"uid", owner},
              {"controller", true}};
  json container = {{"name", "main"}, {"state", state}};
  json pod;
  pod["metadata"] = {{"name", "w"}, {"ownerReferences", json::array({ref})}};
  pod["status"] = {{"phase", phase}, {"containerStatuses", json::array({container})}};
  return pod;
}

iarnet::DeployVerdict Judge(const json* w, const json* pod, bool seen = true) {
  return JudgeDeploy(w, kUid, pod, &seen);
}

}  // namespace

TEST_CASE("deploy verdict: success only once the container runs") {
  json w = Workload("Admitted");
  CHECK(Judge(&w, nullptr).outcome == DeployOutcome::kPending);  // the Pod is not cached yet
  json creating = Pod({{"waiting", {{"reason", "ContainerCreating"}}}});
  CHECK(Judge(&w, &creating).outcome == DeployOutcome::kPending);
  json running = Pod({{"running", {{"startedAt", "2026-12-01T00:00:00Z"}}}}, "Running");
  CHECK(Judge(&w, &running).outcome == DeployOutcome::kRunning);
  json done = Pod({{"terminated", {{"exitCode", 0}, {"reason", "Completed"}}}}, "Succeeded");
  CHECK(Judge(&w, &done).outcome == DeployOutcome::kRunning);
  json succeeded = Workload("Succeeded");
  CHECK(Judge(&succeeded, nullptr).outcome == DeployOutcome::kRunning);
}

TEST_CASE("deploy verdict: image and start failures are reported at once, with the reason") {
  json w = Workload("Admitted");
  for (std::string reason :
       {"ErrImagePull", "ImagePullBackOff", "InvalidImageName", "CreateContainerConfigError"}) {
    json pod = Pod({{"waiting", {{"reason", reason}, {"message", "pull of x:1 failed"}}}});
    auto v = Judge(&w, &pod);
    CHECK(v.outcome == DeployOutcome::kCannotRun);
    CHECK(v.why == reason + ": pull of x:1 failed");
  }
  json exited = Pod({{"terminated", {{"exitCode", 3}, {"reason", "Error"}}}}, "Failed");
  auto v = Judge(&w, &exited);
  CHECK(v.outcome == DeployOutcome::kCannotRun);
  CHECK(v.why == "its container exited with code 3 (Error)");
}

TEST_CASE("deploy verdict: the workload's own verdicts, and a workload gone or replaced") {
  json rejected = Workload("Rejected"), failed = Workload("Failed");
  CHECK(Judge(&rejected, nullptr).outcome == DeployOutcome::kRejected);
  CHECK(Judge(&failed, nullptr).outcome == DeployOutcome::kFailed);
  CHECK(Judge(nullptr, nullptr, true).outcome == DeployOutcome::kGone);
  CHECK(Judge(nullptr, nullptr, false).outcome == DeployOutcome::kPending);  // not cached yet
  json replaced = Workload("Admitted", "uid-2");
  CHECK(Judge(&replaced, nullptr).outcome == DeployOutcome::kGone);
  // A Pod some other workload owns (a previous one of the same name) says nothing.
  json w = Workload("Admitted");
  json other = Pod({{"waiting", {{"reason", "ErrImagePull"}}}}, "Pending", "uid-0");
  CHECK(Judge(&w, &other).outcome == DeployOutcome::kPending);
}
