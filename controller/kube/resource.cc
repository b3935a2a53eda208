#include "kube/resource.h"

#include <cstdio>
#include <stdexcept>

namespace kube {

namespace resources {
const ResourceType kPods{"", "v1", "pods", "Pod", true};
const ResourceType kEvents{"", "v1", "events", "Event", true};
const ResourceType kConfigMaps{"", "v1", "configmaps", "ConfigMap", true};
const ResourceType kNamespaces{"", "v1", "namespaces", "Namespace", false};
const ResourceType kNodes{"", "v1", "nodes", "Node", false};
const ResourceType kLeases{"coordination.k8s.io", "v1", "leases", "Lease", true};
const ResourceType kCustomResourceDefinitions{
    "apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition", false};
const ResourceType kServiceAccounts{"", "v1", "serviceaccounts", "ServiceAccount", true};
const ResourceType kSelfSubjectReviews{"authentication.k8s.io", "v1", "selfsubjectreviews",
                                       "SelfSubjectReview", false};
}  // namespace resources

std::string UrlEncode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += char(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

std::string CollectionPath(const ResourceType& t, const std::string& ns) {
  std::string path = t.group.empty() ? "/api/" + t.version : "/apis/" + t.group + "/" + t.version;
  if (t.namespaced && !ns.empty()) path += "/namespaces/" + UrlEncode(ns);
  return path + "/" + t.plural;
}

std::string ObjectPath(const ResourceType& t, const std::string& ns, const std::string& name,
                       const std::string& subresource) {
  if (name.empty()) throw std::invalid_argument("kube: an object path needs a name");
  if (t.namespaced && ns.empty()) {
    throw std::invalid_argument("kube: " + t.plural + " are namespaced; a namespace is required");
  }
  std::string path = CollectionPath(t, ns) + "/" + UrlEncode(name);
  if (!subresource.empty()) path += "/" + subresource;
  return path;
}

namespace {

class Query {
 public:
  Query& Add(const std::string& key, const std::string& value) {
    if (!value.empty()) s_ += (s_.empty() ? "?" : "&") + key + "=" + UrlEncode(value);
    return *this;
  }
  const std::string& str() const { return s_; }

 private:
  std::string s_;
};

std::string Describe(const std::string& verb, const ResourceType& t, const std::string& ns,
                     const std::string& name = "") {
  std::string what = verb + " " + t.plural;
  if (!t.group.empty()) what += "." + t.group;
  if (!ns.empty() || !name.empty()) what += " ";
  if (!ns.empty() && t.namespaced) what += ns + (name.empty() ? "" : "/");
  return what + name;
}

const char* ContentType(PatchType type) {
  switch (type) {
    case PatchType::kMerge:
      return "application/merge-patch+json";
    case PatchType::kJson:
      return "application/json-patch+json";
    case PatchType::kStrategicMerge:
      return "application/strategic-merge-patch+json";
    case PatchType::kApply:
      return "application/apply-patch+yaml";
  }
  return "application/json";
}

std::string NameOf(const json& object) {
  if (!object.is_object() || !object.contains("metadata") || !object["metadata"].contains("name") ||
      !object["metadata"]["name"].is_string()) {
    throw std::invalid_argument("kube: the object has no metadata.name");
  }
  return object["metadata"]["name"].get<std::string>();
}

}  // namespace

namespace requests {

HttpRequest Get(const ResourceType& t, const std::string& ns, const std::string& name,
                const std::string& subresource) {
  return {"GET", ObjectPath(t, ns, name, subresource), "", "", Describe("get", t, ns, name)};
}

HttpRequest List(const ResourceType& t, const std::string& ns, const ListOptions& o) {
  Query q;
  q.Add("labelSelector", o.label_selector)
      .Add("fieldSelector", o.field_selector)
      .Add("limit", o.limit > 0 ? std::to_string(o.limit) : "")
      .Add("continue", o.continue_token)
      .Add("resourceVersion", o.resource_version);
  return {"GET", CollectionPath(t, ns) + q.str(), "", "", Describe("list", t, ns)};
}

HttpRequest Watch(const ResourceType& t, const std::string& ns, const WatchOptions& o) {
  Query q;
  q.Add("watch", "true")
      .Add("labelSelector", o.label_selector)
      .Add("fieldSelector", o.field_selector)
      .Add("resourceVersion", o.resource_version)
      .Add("allowWatchBookmarks", o.allow_bookmarks ? "true" : "")
      .Add("timeoutSeconds", o.timeout_seconds > 0 ? std::to_string(o.timeout_seconds) : "");
  return {"GET", CollectionPath(t, ns) + q.str(), "", "", Describe("watch", t, ns)};
}

HttpRequest Create(const ResourceType& t, const std::string& ns, const json& object) {
  std::string name = object.is_object() && object.contains("metadata") &&
                             object["metadata"].contains("name") &&
                             object["metadata"]["name"].is_string()
                         ? object["metadata"]["name"].get<std::string>()
                         : "";
  return {"POST", CollectionPath(t, ns), object.dump(), "application/json",
          Describe("create", t, ns, name)};
}

HttpRequest CreateSubresource(const ResourceType& t, const std::string& ns, const std::string& name,
                              const std::string& subresource, const json& body) {
  return {"POST", ObjectPath(t, ns, name, subresource), body.dump(), "application/json",
          Describe("create " + subresource + " of", t, ns, name)};
}

HttpRequest Update(const ResourceType& t, const std::string& ns, const json& object,
                   const std::string& subresource) {
  std::string name = NameOf(object);
  return {"PUT", ObjectPath(t, ns, name, subresource), object.dump(), "application/json",
          Describe(subresource.empty() ? "update" : "update " + subresource + " of", t, ns, name)};
}

HttpRequest Delete(const ResourceType& t, const std::string& ns, const std::string& name,
                   const DeleteOptions& o) {
  json body = {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
  if (!o.propagation_policy.empty()) body["propagationPolicy"] = o.propagation_policy;
  if (!o.precondition_uid.empty()) body["preconditions"]["uid"] = o.precondition_uid;
  if (!o.precondition_resource_version.empty()) {
    body["preconditions"]["resourceVersion"] = o.precondition_resource_version;
  }
  if (o.grace_period_seconds) body["gracePeriodSeconds"] = *o.grace_period_seconds;
  return {"DELETE", ObjectPath(t, ns, name), body.dump(), "application/json",
          Describe("delete", t, ns, name)};
}

HttpRequest Patch(const ResourceType& t, const std::string& ns, const std::string& name,
                  PatchType type, const std::string& body, const PatchOptions& o) {
  if (type == PatchType::kApply && o.field_manager.empty()) {
    throw std::invalid_argument("kube: server-side apply needs a field manager");
  }
  Query q;
  q.Add("fieldManager", o.field_manager);
  if (type == PatchType::kApply && o.force) q.Add("force", "true");
  return {
      "PATCH", ObjectPath(t, ns, name, o.subresource) + q.str(), body, ContentType(type),
      Describe(o.subresource.empty() ? "patch" : "patch " + o.subresource + " of", t, ns, name)};
}

}  // namespace requests
}  // namespace kube
