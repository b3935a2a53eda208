// Real-time usage of the provider's Pods, for GetRealTimeUsage and GET /v1/usage.
//
// Sources, best first (the usage issue adds the metrics API and the kubelet summary):
// today the requests of the Running Pods the provider owns, read from the Pod cache.
// The report says which source served. GPU is the nvidia.com/gpu devices held by Running
// Pods: allocation, not utilisation.
#pragma once

#include <string>
#include <vector>

#include "iarnet_types.h"
#include "kube/informer.h"

namespace iarnet {

struct PodUsage {
  std::string pod;
  std::string instance_id;
  Resources usage;
};

struct UsageReport {
  Resources total;
  std::string source;  // "requests"
  std::vector<PodUsage> pods;
};

// The requests of one Pod's containers (cpu in millicores, memory in bytes, GPUs), or
// zero for a Pod that is not Running. Pure.
Resources RunningRequests(const json& pod);

class UsageCollector {
 public:
  explicit UsageCollector(kube::Informer& pods) : pods_(pods) {}
  UsageReport Current() const;

 private:
  kube::Informer& pods_;
};

}  // namespace iarnet
