#include "deploy_request.h"

#include <algorithm>

#include "image_reference.h"
#include "kube/text.h"
#include "ledger.h"
#include "names.h"
#include "request_checks.h"
#include "workload_plan.h"

namespace iarnet {

std::optional<Language> FromProto(int language) {
  switch (language) {
    case common::LANG_JSON:
      return Language::kJson;
    case common::LANG_GO:
      return Language::kGo;
    case common::LANG_PYTHON:
      return Language::kPython;
    case common::LANG_UNIKERNEL:
      return Language::kUnikernel;
    default:
      return std::nullopt;
  }
}

int ToProto(Language language) {
  switch (language) {
    case Language::kJson:
      return common::LANG_JSON;
    case Language::kGo:
      return common::LANG_GO;
    case Language::kPython:
      return common::LANG_PYTHON;
    case Language::kUnikernel:
      return common::LANG_UNIKERNEL;
  }
  return common::LANG_UNKNOWN;
}

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
  std::sort(plan.spec.env.begin(), plan.spec.env.end(),
            [](const EnvVar& a, const EnvVar& b) { return a.name < b.name; });
  return plan;
}

bool SameDeploy(const WorkloadSpec& a, const WorkloadSpec& b) {
  auto sorted = [](std::vector<EnvVar> env) {
    std::sort(env.begin(), env.end(),
              [](const EnvVar& x, const EnvVar& y) { return x.name < y.name; });
    return env;
  };
  return a.instance_id == b.instance_id && a.image == b.image && a.language == b.language &&
         a.resources == b.resources && sorted(a.env) == sorted(b.env);
}

json WorkloadManifest(const DeployPlan& plan, const std::string& ns) {
  const WorkloadSpec& s = plan.spec;
  json env = json::array();
  for (const auto& e : s.env) env.push_back({{"name", e.name}, {"value", e.value}});
  json spec = {
      {"instanceId", s.instance_id},
      {"resources",
       {{"cpu", s.resources.cpu}, {"memory", s.resources.memory}, {"gpu", s.resources.gpu}}},
      {"env", env}};
  if (!s.image.empty()) spec["image"] = s.image;
  if (s.language) spec["language"] = ToString(*s.language);
  if (!s.provider_id.empty()) spec["providerId"] = s.provider_id;
  return {{"apiVersion", "iarnet.io/v1alpha1"},
          {"kind", "IarnetWorkload"},
          {"metadata",
           {{"name", plan.name},
            {"namespace", ns},
            {"annotations", {{"iarnet.io/created-by", "grpc"}}},
            // Set at creation, so the controller's first step is admission (one write
            // fewer); a Deploy that gives up before admission removes it again.
            {"finalizers", {kReleaseFinalizer}}}},
          {"spec", spec}};
}

}  // namespace iarnet
