// A Deploy request checked and turned into the IarnetWorkload it asks for. Pure: the
// handler validates here first, so bad input changes nothing in the cluster.
#pragma once

#include <string>
#include <variant>

#include "api/iarnet_types.h"
#include "api/proto_conversions.h"
#include "resource/provider/provider.pb.h"

namespace iarnet {

struct DeployPlan {
  std::string name;  // the IarnetWorkload's name (WorkloadNameFor the instance id)
  WorkloadSpec spec;
};

struct DeployInvalid {
  std::string message;  // says what was invalid
};

// `provider` supplies the language-to-image map: a request needs an image, or a
// language this provider maps to one. `provider_id` is recorded in the spec (the
// connected control plane's id when the request carries none).
std::variant<DeployPlan, DeployInvalid> PlanDeploy(const resource::provider::DeployRequest& r,
                                                   const ProviderSpec& provider,
                                                   const std::string& provider_id);

// Whether an existing workload was made from the same request (a retried Deploy).
bool SameDeploy(const WorkloadSpec& a, const WorkloadSpec& b);

// The workload manifest PlanDeploy describes; `annotations` mark who created it.
json WorkloadManifest(const DeployPlan& plan, const std::string& ns);

}  // namespace iarnet
