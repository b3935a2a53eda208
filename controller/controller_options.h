// What the workload controller (workload_controller.h) is told: apart from the class, so
// that the front end can build it from the configuration without depending on the
// leader-only controller.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>

namespace iarnet {

struct ControllerOptions {
  std::string field_manager = "iarnet-k8s-provider";
  int workers = 16;  // reconciles of different workloads in parallel
  // A Pod that cannot pull its image is given up this long after admission (0: never).
  std::chrono::milliseconds image_pull_timeout{std::chrono::seconds(60)};
  // A workload whose Deploy never answered is deleted this long after its creation
  // (PlanInputs::interrupted_deploy_after; 0: never).
  std::chrono::milliseconds interrupted_deploy_after{0};
  // Orphans (PlanInputs::orphan_grace): deleted this long after their session ended;
  // 0: kept. connected_id says which control plane is connected now ("" none); unset
  // or nullopt: not known, and no workload is an orphan.
  std::chrono::milliseconds orphan_grace{0};
  std::function<std::optional<std::string>()> connected_id;
  // A Pod the scheduler cannot place is given up this long after it first said so, and
  // a workload whose node is deleted or not Ready this long ends (NodeLost; needs the
  // node view). 0: never.
  std::chrono::milliseconds schedule_timeout{std::chrono::seconds(30)};
  std::chrono::milliseconds node_lost_grace{std::chrono::seconds(60)};
  // The nodes component Pods may run on (capacity.node_selector): their nodeSelector.
  std::map<std::string, std::string> node_selector;
  // The non-root user component Pods run as (provider.component_user); unset: the image's.
  std::optional<int64_t> component_user;
  // Called after a status write that rejected a workload ("rejected", its reason) or
  // ended it because of the cluster ("ended", Unschedulable or NodeLost): metrics.
  std::function<void(const std::string& what, const std::string& reason)> on_outcome;
  // Whether this replica may still write as the leader: checked right before every
  // write, so a replica whose term ended (leader_election.h) writes nothing more, even
  // when it is resumed mid-reconcile after being stopped. Unset: always.
  std::function<bool()> may_write;
  // Called after each reconcile with its duration and "success" or "error" (metrics).
  std::function<void(double seconds, const std::string& result)> on_reconcile;
};

}  // namespace iarnet
