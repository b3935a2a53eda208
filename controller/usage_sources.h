// What each usage source answers, turned into per-Pod usage. Pure functions, no I/O:
// the collector (usage.h) fetches, these parse, so every conversion is unit-tested.
//
//   metrics API     PodMetrics (metrics.k8s.io/v1beta1): containers[].usage.{cpu,memory}
//                   as quantities ("1234567n", "12Mi").
//   kubelet summary /stats/summary: pods[].cpu.usageNanoCores and
//                   pods[].memory.workingSetBytes as integers.
//   requests        what a Running Pod's containers request: the fallback when neither
//                   measurement is available.
//
// CPU is in millicores rounded up (as `kubectl top` shows it), memory in bytes. GPU is
// never measured: it is the nvidia.com/gpu devices a Running Pod holds (allocation).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "api/iarnet_types.h"

namespace iarnet {

// One of our Pods as the usage report needs it (from the Pod cache).
struct OwnedPod {
  std::string name;
  std::string instance_id;
  std::string node;
  bool running = false;
  Resources requests;  // cpu/memory requests, GPU devices held
};

// The Pod if a workload of ours owns it (controller reference to an IarnetWorkload).
std::optional<OwnedPod> AsOwnedPod(const json& pod);

// The requests of a Pod's containers, whatever its phase. Pure.
Resources PodRequests(const json& pod);

// Nanocores (the summary's usageNanoCores) in millicores, rounded up.
int64_t NanocoresToMillicores(uint64_t nanocores);

// Measured usage by Pod name, GPU left zero. An entry that cannot be read makes the
// whole answer unusable: a source that half-answers is not trusted.
using MeasuredUsage = std::map<std::string, Resources>;
struct SourceError {
  std::string message;
};

// A PodMetricsList: the sum of each Pod's containers.
std::variant<MeasuredUsage, SourceError> UsageFromPodMetrics(const json& list);

// A kubelet summary: the Pods in `ns`.
std::variant<MeasuredUsage, SourceError> UsageFromSummary(const json& summary,
                                                          const std::string& ns);

}  // namespace iarnet
