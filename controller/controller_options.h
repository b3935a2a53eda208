// What the workload controller (workload_controller.h) is told: apart from the class, so
// that the front end can build it from the configuration without depending on the
// leader-only controller.
#pragma once

#include <chrono>
#include <functional>
#include <string>

namespace iarnet {

struct ControllerOptions {
  std::string field_manager = "iarnet-k8s-provider";
  int workers = 16;  // reconciles of different workloads in parallel
  // A Pod that cannot pull its image is given up this long after admission (0: never).
  std::chrono::milliseconds image_pull_timeout{std::chrono::seconds(60)};
  // Called after each reconcile with its duration and "success" or "error" (metrics).
  std::function<void(double seconds, const std::string& result)> on_reconcile;
};

}  // namespace iarnet
