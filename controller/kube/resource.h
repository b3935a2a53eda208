// What to ask the API server: resource types, and pure builders of the HTTP requests
// for each verb (get, list, watch, create, update, delete, patch, status). No I/O here.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace kube {

using json = nlohmann::json;

// One kind of object the API serves, core (group "") or from an API group, CRD and
// aggregated APIs alike.
struct ResourceType {
  std::string group;    // "" for the core group
  std::string version;  // "v1"
  std::string plural;   // "pods"
  std::string kind;     // "Pod"
  bool namespaced = true;

  std::string ApiVersion() const { return group.empty() ? version : group + "/" + version; }
};

namespace resources {
extern const ResourceType kPods;
extern const ResourceType kEvents;
extern const ResourceType kConfigMaps;
extern const ResourceType kNamespaces;
extern const ResourceType kNodes;
extern const ResourceType kLeases;
extern const ResourceType kCustomResourceDefinitions;
extern const ResourceType kServiceAccounts;
extern const ResourceType kSelfSubjectReviews;
}  // namespace resources

struct HttpRequest {
  std::string method;  // GET, POST, PUT, PATCH, DELETE
  std::string target;  // path and query
  std::string body;
  std::string content_type;
  std::string what;                      // "get pods ns/name", for error messages
  std::chrono::milliseconds timeout{0};  // 0: the transport's request_timeout
  // When set, the whole request ends by then or fails with kTimeout: the wait for the rate
  // limit and for a free connection, connecting, and the exchange. For callers whose own
  // deadline must hold (a leader renewing its lease), not only each step's timeout.
  std::optional<std::chrono::steady_clock::time_point> deadline{};
};

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  int64_t limit = 0;  // 0: no paging
  std::string continue_token;
  std::string resource_version;  // "" most recent; "0" any (from the watch cache)
};

struct WatchOptions {
  std::string label_selector;
  std::string field_selector;
  std::string resource_version;  // resume after this version
  bool allow_bookmarks = true;
  int timeout_seconds = 0;  // server-side end of the watch; 0: server default
};

struct DeleteOptions {
  std::string propagation_policy;  // "", "Foreground", "Background", "Orphan"
  std::string precondition_uid;
  std::string precondition_resource_version;
  std::optional<int64_t> grace_period_seconds;
};

enum class PatchType { kMerge, kJson, kStrategicMerge, kApply };

struct PatchOptions {
  std::string field_manager;  // required for kApply
  bool force = false;         // kApply: take ownership of conflicting fields
  std::string subresource;    // e.g. "status"
};

// Percent-encodes a query value or path segment (RFC 3986 unreserved characters kept).
std::string UrlEncode(const std::string& s);

// /api/v1/namespaces/NS/pods or /apis/GROUP/VERSION/namespaces/NS/PLURAL; an empty
// namespace on a namespaced type means all namespaces.
std::string CollectionPath(const ResourceType& type, const std::string& ns);
std::string ObjectPath(const ResourceType& type, const std::string& ns, const std::string& name,
                       const std::string& subresource = "");

namespace requests {
HttpRequest Get(const ResourceType& t, const std::string& ns, const std::string& name,
                const std::string& subresource = "");
HttpRequest List(const ResourceType& t, const std::string& ns, const ListOptions& o = {});
HttpRequest Watch(const ResourceType& t, const std::string& ns, const WatchOptions& o);
HttpRequest Create(const ResourceType& t, const std::string& ns, const json& object);
// POST to an object's subresource (e.g. serviceaccounts/NAME/token, pods/NAME/eviction).
HttpRequest CreateSubresource(const ResourceType& t, const std::string& ns, const std::string& name,
                              const std::string& subresource, const json& body);
// PUT of the whole object (or its status); the name comes from object.metadata.name and
// metadata.resourceVersion, when set, makes it conditional.
HttpRequest Update(const ResourceType& t, const std::string& ns, const json& object,
                   const std::string& subresource = "");
HttpRequest Delete(const ResourceType& t, const std::string& ns, const std::string& name,
                   const DeleteOptions& o = {});
HttpRequest Patch(const ResourceType& t, const std::string& ns, const std::string& name,
                  PatchType type, const std::string& body, const PatchOptions& o = {});
}  // namespace requests

}  // namespace kube
