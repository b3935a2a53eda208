// When a Deploy may answer, and what: a pure judgement of the workload and its Pod as
// the caches hold them. A Deploy succeeds only once the component's container runs (or
// already ran to success); it fails as soon as the cluster shows the component cannot
// run: the workload Rejected or Failed, or its Pod unable to pull or start its image, or
// its container already ended with an error. Everything else is still pending.
#pragma once

#include <string>

#include "kube/resource.h"

namespace iarnet {

enum class DeployOutcome {
  kPending,    // not decided yet: keep waiting
  kRunning,    // the container runs (or ran and succeeded): success
  kRejected,   // the ledger had no room
  kFailed,     // the workload failed (the controller's verdict)
  kCannotRun,  // the Pod shows a failure the component will not get over by itself
  kGone,       // the workload was deleted (or replaced) while we waited
};

struct DeployVerdict {
  DeployOutcome outcome = DeployOutcome::kPending;
  std::string why;  // for kCannotRun: the kubelet's reason and message
};

// `workload` and `pod` from the caches (null when absent); `uid` the workload's uid as
// the Deploy created or found it. `seen`: whether the workload was seen before (an
// absent one counts as gone only then: the cache may not have our own create yet).
DeployVerdict JudgeDeploy(const kube::json* workload, const std::string& uid, const kube::json* pod,
                          bool* seen);

// Waiting reasons of a container that will not start without someone changing
// something (the image, the registry, the spec): a Deploy reports them at once.
bool CannotStart(const std::string& waiting_reason);

}  // namespace iarnet
