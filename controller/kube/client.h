// The Kubernetes client: typed verbs over the transport, JSON in and out, API errors
// thrown as kube::Error. The blocking methods are for worker threads; code running on
// the client's I/O thread (informers, watchers) uses Call() as a coroutine.
#pragma once

#include "kube/resource.h"
#include "kube/transport.h"

namespace kube {

class Client {
 public:
  explicit Client(ClusterConfig config, TransportOptions options = {});

  const ClusterConfig& config() const { return transport_.config(); }
  Transport& transport() { return transport_; }
  const std::string& default_namespace() const { return config().namespace_; }

  // Sends a request built by kube::requests and returns the JSON answer (null for an
  // empty body). Non-2xx answers throw kube::Error(kApi) with the Status's reason.
  Task<json> Call(HttpRequest request);
  // The same, with the answer's body unparsed (for large answers read as a stream).
  Task<std::string> CallRaw(HttpRequest request);
  json CallSync(const HttpRequest& request) { return transport_.Await(Call(request)); }

  // Blocking conveniences for the common verbs.
  json Get(const ResourceType& t, const std::string& ns, const std::string& name,
           const std::string& subresource = "") {
    return CallSync(requests::Get(t, ns, name, subresource));
  }
  json List(const ResourceType& t, const std::string& ns, const ListOptions& o = {}) {
    return CallSync(requests::List(t, ns, o));
  }
  // Every page of a list (following `continue`): the last page's list with all items.
  json ListAll(const ResourceType& t, const std::string& ns, ListOptions o = {}) {
    return transport_.Await(CallListAll(t, ns, std::move(o)));
  }
  Task<json> CallListAll(ResourceType t, std::string ns, ListOptions o);
  json Create(const ResourceType& t, const std::string& ns, const json& object) {
    return CallSync(requests::Create(t, ns, object));
  }
  json Update(const ResourceType& t, const std::string& ns, const json& object) {
    return CallSync(requests::Update(t, ns, object));
  }
  json UpdateStatus(const ResourceType& t, const std::string& ns, const json& object) {
    return CallSync(requests::Update(t, ns, object, "status"));
  }
  json Delete(const ResourceType& t, const std::string& ns, const std::string& name,
              const DeleteOptions& o = {}) {
    return CallSync(requests::Delete(t, ns, name, o));
  }
  json Patch(const ResourceType& t, const std::string& ns, const std::string& name, PatchType type,
             const json& body, const PatchOptions& o = {}) {
    return CallSync(requests::Patch(t, ns, name, type, body.dump(), o));
  }

  void Shutdown() { transport_.Shutdown(); }

 private:
  Transport transport_;
};

// The configuration a process should use: in-cluster when asked, else the kubeconfig
// (explicit path, $KUBECONFIG, ~/.kube/config).
ClusterConfig LoadConfig(bool in_cluster, const std::string& kubeconfig_path = "",
                         const std::string& context = "");

}  // namespace kube
