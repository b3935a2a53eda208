#include "grpc-gateway/deploy_request.h"

#include <algorithm>

#include "api/image_reference.h"
#include "api/names.h"
#include "api/vocabulary.h"
#include "controller/ledger.h"
#include "controller/workload_plan.h"
#include "grpc-gateway/request_checks.h"
#include "kube/text.h"

namespace iarnet {

namespace {

std::vector<EnvVar> SortedByName(std::vector<EnvVar> env) {
  std::sort(env.begin(), env.end(),
            [](const EnvVar& x, const EnvVar& y) { return x.name < y.name; });
  return env;
}

}  // namespace

std::variant<DeployPlan, DeployInvalid> PlanDeploy(const resource::provider::DeployRequest& r,
                                                   const ProviderSpec& provider,
                                                   const std::string& provider_id) {
  const std::string& id = r.instance_id();
  if (auto problem = IdProblem("instance_id", id))
    return DeployInvalid{"invalid Deploy: " + *problem};
  if (!r.has_resource_request())
    return DeployInvalid{"invalid Deploy: resource_request is required"};
  const auto& q = r.resource_request();
  Resources asked{q.cpu(), q.memory(), q.gpu()};
  if (IsNegative(asked)) {
    return DeployInvalid{"invalid Deploy: resource_request must not be negative (cpu " +
                         std::to_string(q.cpu()) + "m, memory " + std::to_string(q.memory()) +
                         ", gpu " + std::to_string(q.gpu()) + ")"};
  }
  if (r.image().size() > 1024)
    return DeployInvalid{"invalid Deploy: image is longer than 1024 characters"};
  if (!r.image().empty()) {
    if (auto problem = ImageReferenceProblem(r.image())) {
      return DeployInvalid{"invalid Deploy: image " + kube::Quoted(r.image()) +
                           " is not a valid image reference: " + *problem};
    }
  }
  if (r.env_vars().size() > 256) return DeployInvalid{"invalid Deploy: more than 256 env vars"};
  DeployPlan plan;
  plan.name = WorkloadNameFor(id);
  plan.spec.instance_id = id;
  plan.spec.image = r.image();
  plan.spec.provider_id = provider_id;
  plan.spec.resources = asked;
  if (r.language() != common::LANG_UNKNOWN) {
    plan.spec.language = FromProto(r.language());
    if (!plan.spec.language) {
      return DeployInvalid{"invalid Deploy: unknown language " + std::to_string(r.language())};
    }
  }
  std::string why;
  if (!ImageFor(plan.spec, provider, &why))
    return DeployInvalid{"cannot deploy " + id + ": " + why};
  for (const auto& [name, value] : r.env_vars()) {
    if (name.size() > 256 || !IsEnvVarName(name)) {
      return DeployInvalid{"invalid Deploy: env var name " + kube::Quoted(name) +
                           " is not valid (at most 256 of letters, digits, '_', '-', '.'; not "
                           "starting with a digit)"};
    }
    if (value.size() > 32768) {
      return DeployInvalid{"invalid Deploy: env var " + name + " is longer than 32768 bytes"};
    }
    plan.spec.env.push_back({name, value});
  }
  // A protobuf map has no order; a sorted env makes the same request the same spec.
  plan.spec.env = SortedByName(std::move(plan.spec.env));
  return plan;
}

bool SameDeploy(const WorkloadSpec& a, const WorkloadSpec& b) {
  // A workload applied by other means may list its env in any order.
  return a.instance_id == b.instance_id && a.image == b.image && a.language == b.language &&
         a.resources == b.resources && SortedByName(a.env) == SortedByName(b.env);
}

json WorkloadManifest(const DeployPlan& plan, const std::string& ns) {
  return {{"apiVersion", kApiVersion},
          {"kind", kWorkloadKind},
          {"metadata",
           {{"name", plan.name},
            {"namespace", ns},
            {"labels",
             {{kProviderIdLabel, LabelValueFor(plan.spec.provider_id)},
              {kInstanceIdLabel, LabelValueFor(plan.spec.instance_id)}}},
            {"annotations", {{kCreatedByAnnotation, "grpc"}, {kDeployAnnotation, kDeployPending}}},
            // Set at creation, so the controller's first step is admission (one write
            // fewer); a Deploy that gives up before admission removes it again.
            {"finalizers", {kReleaseFinalizer}}}},
          {"spec", ToJson(plan.spec)}};
}

}  // namespace iarnet
