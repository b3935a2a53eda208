#include "api/iarnet_types.h"

#include "api/quantity.h"
#include "api/vocabulary.h"

namespace iarnet {
namespace {

// Reads fields with the path in every error message.
class Reader {
 public:
  Reader(const json& j, std::string path) : j_(j), path_(std::move(path)) {
    if (!j_.is_object()) throw MappingError(path_ + ": must be an object");
  }
  bool Has(const char* key) const { return j_.contains(key) && !j_[key].is_null(); }
  std::string Path(const char* key) const { return path_.empty() ? key : path_ + "." + key; }
  std::string String(const char* key) const {
    if (!Has(key)) return "";
    if (!j_[key].is_string()) throw MappingError(Path(key) + ": must be a string");
    return j_[key].get<std::string>();
  }
  int64_t Int(const char* key) const {
    if (!Has(key)) return 0;
    if (!j_[key].is_number_integer()) throw MappingError(Path(key) + ": must be an integer");
    return j_[key].get<int64_t>();
  }
  bool Bool(const char* key) const {
    if (!Has(key)) return false;
    if (!j_[key].is_boolean()) throw MappingError(Path(key) + ": must be true or false");
    return j_[key].get<bool>();
  }
  Reader Object(const char* key) const {
    static const json kEmpty = json::object();
    return Has(key) ? Reader(j_[key], Path(key)) : Reader(kEmpty, Path(key));
  }
  template <class F>
  void Each(const char* key, F f) const {
    if (!Has(key)) return;
    if (!j_[key].is_array()) throw MappingError(Path(key) + ": must be a list");
    for (size_t i = 0; i < j_[key].size(); ++i) {
      f(Reader(j_[key][i], Path(key) + "[" + std::to_string(i) + "]"));
    }
  }
  std::vector<std::string> Strings(const char* key) const {
    std::vector<std::string> out;
    if (!Has(key)) return out;
    if (!j_[key].is_array()) throw MappingError(Path(key) + ": must be a list");
    for (const auto& v : j_[key]) {
      if (!v.is_string()) throw MappingError(Path(key) + ": must be a list of strings");
      out.push_back(v.get<std::string>());
    }
    return out;
  }
  const json& raw() const { return j_; }

 private:
  const json& j_;
  std::string path_;
};

Resources ReadResources(const Reader& r) { return {r.Int("cpu"), r.Int("memory"), r.Int("gpu")}; }

json WriteResources(const Resources& r) {
  return {{"cpu", r.cpu}, {"memory", r.memory}, {"gpu", r.gpu}};
}

// A capacity: each component a number or "auto" (kUncapped).
int64_t CapComponent(const Reader& r, const char* key) {
  if (r.Has(key) && r.raw()[key].is_string()) {
    if (r.raw()[key] != "auto") throw MappingError(r.Path(key) + ": must be a number or auto");
    return kUncapped;
  }
  return r.Int(key);
}
Resources ReadCapacity(const Reader& r) {
  return {CapComponent(r, "cpu"), CapComponent(r, "memory"), CapComponent(r, "gpu")};
}
json WriteCapacity(const Resources& r) {
  auto one = [](int64_t v) { return v == kUncapped ? json("auto") : json(v); };
  return {{"cpu", one(r.cpu)}, {"memory", one(r.memory)}, {"gpu", one(r.gpu)}};
}

ObjectMeta ReadMeta(const Reader& m) {
  ObjectMeta out;
  out.name = m.String("name");
  out.namespace_ = m.String("namespace");
  out.uid = m.String("uid");
  out.resource_version = m.String("resourceVersion");
  out.generation = m.Int("generation");
  out.created = m.String("creationTimestamp");
  out.deleting = m.Has("deletionTimestamp");
  out.finalizers = m.Strings("finalizers");
  if (m.Has("labels")) out.labels = m.raw()["labels"];
  if (m.Has("annotations")) out.annotations = m.raw()["annotations"];
  return out;
}

std::vector<Condition> ReadConditions(const Reader& status) {
  std::vector<Condition> out;
  status.Each("conditions", [&](const Reader& c) {
    out.push_back({c.String("type"), c.String("status"), c.String("reason"), c.String("message"),
                   c.String("lastTransitionTime"), c.Int("observedGeneration")});
  });
  return out;
}

json WriteConditions(const std::vector<Condition>& conditions) {
  json out = json::array();
  for (const auto& c : conditions) {
    out.push_back({{"type", c.type},
                   {"status", c.status},
                   {"reason", c.reason},
                   {"message", c.message},
                   {"lastTransitionTime", c.last_transition_time},
                   {"observedGeneration", c.observed_generation}});
  }
  return out;
}

Language RequireLanguage(const std::string& text, const std::string& path) {
  auto l = ParseLanguage(text);
  if (!l) throw MappingError(path + ": unknown language \"" + text + "\"");
  return *l;
}

}  // namespace

std::optional<Language> ParseLanguage(const std::string& t) {
  if (t == "json" || t == "LANG_JSON") return Language::kJson;
  if (t == "go" || t == "LANG_GO") return Language::kGo;
  if (t == "python" || t == "LANG_PYTHON") return Language::kPython;
  if (t == "unikernel" || t == "LANG_UNIKERNEL") return Language::kUnikernel;
  return std::nullopt;
}

std::string ToString(Language l) {
  switch (l) {
    case Language::kJson:
      return "json";
    case Language::kGo:
      return "go";
    case Language::kPython:
      return "python";
    case Language::kUnikernel:
      return "unikernel";
  }
  return "";
}

std::optional<Phase> ParsePhase(const std::string& t) {
  for (Phase p : {Phase::kPending, Phase::kAdmitted, Phase::kRunning, Phase::kSucceeded,
                  Phase::kFailed, Phase::kRejected}) {
    if (ToString(p) == t) return p;
  }
  return std::nullopt;
}

std::string ToString(Phase p) {
  switch (p) {
    case Phase::kPending:
      return "Pending";
    case Phase::kAdmitted:
      return "Admitted";
    case Phase::kRunning:
      return "Running";
    case Phase::kSucceeded:
      return "Succeeded";
    case Phase::kFailed:
      return "Failed";
    case Phase::kRejected:
      return "Rejected";
  }
  return "";
}

Workload WorkloadFromJson(const json& object) {
  Reader root(object, "");
  Workload w;
  w.metadata = ReadMeta(root.Object("metadata"));
  Reader spec = root.Object("spec");
  w.spec.instance_id = spec.String("instanceId");
  w.spec.image = spec.String("image");
  if (spec.Has("language"))
    w.spec.language = RequireLanguage(spec.String("language"), "spec.language");
  w.spec.provider_id = spec.String("providerId");
  w.spec.resources = ReadResources(spec.Object("resources"));
  spec.Each("env", [&](const Reader& e) {
    w.spec.env.push_back({e.String("name"), e.String("value")});
  });
  w.spec.gpu_model = spec.String("gpuModel");

  Reader status = root.Object("status");
  if (status.Has("phase")) {
    auto p = ParsePhase(status.String("phase"));
    if (!p) throw MappingError("status.phase: unknown phase \"" + status.String("phase") + "\"");
    w.status.phase = p;
  }
  w.status.observed_generation = status.Int("observedGeneration");
  w.status.pod_name = status.String("podName");
  w.status.node_name = status.String("nodeName");
  w.status.start_time = status.String("startTime");
  w.status.reason = status.String("reason");
  w.status.message = status.String("message");
  if (status.Has("exitCode")) w.status.exit_code = int(status.Int("exitCode"));
  w.status.orphaned_at = status.String("orphanedAt");
  w.status.admission = AdmissionFromJson(object);
  w.status.conditions = ReadConditions(status);
  return w;
}

std::optional<Admission> AdmissionFromJson(const json& object) {
  if (!object.is_object() || !object.contains("status")) return std::nullopt;
  Reader status(object["status"], "status");
  if (!status.Has("admission")) return std::nullopt;
  Reader a = status.Object("admission");
  return Admission{ReadResources(a), a.String("provider"), a.String("admittedAt")};
}

json ToJson(const WorkloadStatus& s) {
  json out = json::object();
  if (s.phase) out["phase"] = ToString(*s.phase);
  if (s.observed_generation) out["observedGeneration"] = s.observed_generation;
  if (!s.pod_name.empty()) out["podName"] = s.pod_name;
  if (!s.node_name.empty()) out["nodeName"] = s.node_name;
  if (!s.start_time.empty()) out["startTime"] = s.start_time;
  if (!s.reason.empty()) out["reason"] = s.reason;
  if (!s.message.empty()) out["message"] = s.message;
  if (s.exit_code) out["exitCode"] = *s.exit_code;
  if (!s.orphaned_at.empty()) out["orphanedAt"] = s.orphaned_at;
  if (s.admission) {
    out["admission"] = WriteResources(s.admission->charged);
    if (!s.admission->provider.empty()) out["admission"]["provider"] = s.admission->provider;
    if (!s.admission->admitted_at.empty())
      out["admission"]["admittedAt"] = s.admission->admitted_at;
  }
  if (!s.conditions.empty()) out["conditions"] = WriteConditions(s.conditions);
  return out;
}

Provider ProviderFromJson(const json& object) {
  Reader root(object, "");
  Provider p;
  p.metadata = ReadMeta(root.Object("metadata"));
  Reader spec = root.Object("spec");
  p.spec.capacity = ReadCapacity(spec.Object("capacity"));
  Reader tags = spec.Object("resourceTags");
  p.spec.resource_tags = {tags.Bool("cpu"), tags.Bool("gpu"), tags.Bool("memory"),
                          tags.Bool("camera")};
  spec.Each("languages", [&](const Reader& l) {
    p.spec.languages.push_back(
        {RequireLanguage(l.String("name"), l.Path("name")), l.String("image")});
  });
  spec.Each("hostAliases", [&](const Reader& h) {
    p.spec.host_aliases.push_back({h.String("ip"), h.Strings("hostnames")});
  });
  Reader status = root.Object("status");
  Reader ledger = status.Object("ledger");
  p.status.total = ReadResources(ledger.Object("total"));
  p.status.used = ReadResources(ledger.Object("used"));
  p.status.available = ReadResources(ledger.Object("available"));
  p.status.admitted_count = ledger.Int("admittedCount");
  if (status.Has("cluster")) {
    Reader c = status.Object("cluster");
    ClusterView v;
    v.eligible_nodes = c.Int("eligibleNodes");
    v.allocatable = ReadResources(c.Object("allocatable"));
    v.free = ReadResources(c.Object("free"));
    v.largest_placeable = ReadResources(c.Object("largestPlaceable"));
    c.Each("nodes", [&](const Reader& n) {
      v.nodes.push_back({n.String("name"), ReadResources(n.Object("free")), n.Int("podsFree"),
                         n.String("gpuModel")});
    });
    c.Each("gpus", [&](const Reader& g) {
      v.gpus.push_back({g.String("model"), g.Int("total"), g.Int("free")});
    });
    p.status.cluster = std::move(v);
  }
  Reader cp = status.Object("controlPlane");
  p.status.control_plane = {cp.String("providerId"), cp.String("connectedAt"),
                            cp.String("lastHealthCheck"), cp.String("address"),
                            cp.Int("healthCheckIntervalSeconds")};
  p.status.conditions = ReadConditions(status);
  p.status.observed_generation = status.Int("observedGeneration");
  return p;
}

json ToJson(const ProviderStatus& s) {
  json out = {{"ledger",
               {{"total", WriteResources(s.total)},
                {"used", WriteResources(s.used)},
                {"available", WriteResources(s.available)},
                {"admittedCount", s.admitted_count}}},
              {"display",
               {{"cpu", FormatMillicores(s.used.cpu) + "/" + FormatMillicores(s.total.cpu)},
                {"memory", FormatBytes(s.used.memory) + "/" + FormatBytes(s.total.memory)},
                {"gpu", std::to_string(s.used.gpu) + "/" + std::to_string(s.total.gpu)}}}};
  if (s.cluster) {
    const ClusterView& v = *s.cluster;
    json nodes = json::array();
    for (const auto& n : v.nodes) {
      json node = {{"name", n.name}, {"free", WriteResources(n.free)}, {"podsFree", n.pods_free}};
      if (!n.gpu_model.empty()) node["gpuModel"] = n.gpu_model;
      nodes.push_back(std::move(node));
    }
    json gpus = json::array();
    for (const auto& g : v.gpus)
      gpus.push_back({{"model", g.model}, {"total", g.total}, {"free", g.free}});
    out["cluster"] = {{"eligibleNodes", v.eligible_nodes},
                      {"allocatable", WriteResources(v.allocatable)},
                      {"free", WriteResources(v.free)},
                      {"largestPlaceable", WriteResources(v.largest_placeable)},
                      {"nodes", nodes},
                      {"gpus", gpus}};
    out["display"]["largest"] = FormatMillicores(v.largest_placeable.cpu) + " cpu, " +
                                FormatBytes(v.largest_placeable.memory);
  }
  const auto& cp = s.control_plane;
  if (!cp.provider_id.empty() || !cp.last_health_check.empty()) {
    json c = json::object();
    if (!cp.provider_id.empty()) c["providerId"] = cp.provider_id;
    if (!cp.connected_at.empty()) c["connectedAt"] = cp.connected_at;
    if (!cp.last_health_check.empty()) c["lastHealthCheck"] = cp.last_health_check;
    if (!cp.address.empty()) c["address"] = cp.address;
    if (cp.health_check_interval_seconds) {
      c["healthCheckIntervalSeconds"] = cp.health_check_interval_seconds;
    }
    out["controlPlane"] = c;
  }
  if (!s.conditions.empty()) out["conditions"] = WriteConditions(s.conditions);
  if (s.observed_generation) out["observedGeneration"] = s.observed_generation;
  return out;
}

json ToJson(const ProviderSpec& s) {
  json out = {{"capacity", WriteCapacity(s.capacity)},
              {"resourceTags",
               {{"cpu", s.resource_tags.cpu},
                {"gpu", s.resource_tags.gpu},
                {"memory", s.resource_tags.memory},
                {"camera", s.resource_tags.camera}}}};
  out["languages"] = json::array();
  for (const auto& l : s.languages)
    out["languages"].push_back({{"name", ToString(l.language)}, {"image", l.image}});
  out["hostAliases"] = json::array();
  for (const auto& h : s.host_aliases)
    out["hostAliases"].push_back({{"ip", h.ip}, {"hostnames", h.hostnames}});
  return out;
}

std::optional<std::string> ImageFor(const WorkloadSpec& spec, const ProviderSpec& provider,
                                    std::string* why) {
  if (!spec.image.empty()) return spec.image;
  if (!spec.language) {
    if (why) *why = "the workload has neither an image nor a language";
    return std::nullopt;
  }
  for (const auto& l : provider.languages) {
    if (l.language == *spec.language && !l.image.empty()) return l.image;
  }
  if (why) {
    std::string supported;
    for (const auto& l : provider.languages)
      supported += (supported.empty() ? "" : ", ") + ToString(l.language);
    *why = "unsupported language \"" + ToString(*spec.language) + "\": this provider runs " +
           (supported.empty() ? "no languages" : supported);
  }
  return std::nullopt;
}

std::optional<WorkloadRef> ControlledByWorkload(const json& object) {
  const json& meta = object.value("metadata", json::object());
  for (const auto& ref : meta.value("ownerReferences", json::array())) {
    if (ref.value("controller", false) && ref.value("kind", "") == kWorkloadKind &&
        ref.value("apiVersion", "") == kApiVersion) {
      return WorkloadRef{ref.value("name", ""), ref.value("uid", "")};
    }
  }
  return std::nullopt;
}

json ToJson(const WorkloadSpec& s) {
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
  if (!s.gpu_model.empty()) spec["gpuModel"] = s.gpu_model;
  return spec;
}

bool CreatedByDeploy(const Workload& w) {
  return w.metadata.annotations.is_object() &&
         w.metadata.annotations.value(kCreatedByAnnotation, "") == "grpc";
}

bool DeployUnanswered(const Workload& w) {
  return CreatedByDeploy(w) &&
         w.metadata.annotations.value(kDeployAnnotation, "") == kDeployPending;
}

}  // namespace iarnet
