#include "kube/client.h"

#include "kube/error.h"

namespace kube {

Client::Client(ClusterConfig config, TransportOptions options)
    : transport_(std::move(config), options) {}

Task<json> Client::Call(HttpRequest request) {
  std::string what = request.what;
  std::string body = co_await CallRaw(std::move(request));
  if (body.empty()) co_return json();
  json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    throw Error(ErrorKind::kProtocol, what + ": the answer is not JSON");
  }
  co_return parsed;
}

Task<std::string> Client::CallRaw(HttpRequest request) {
  HttpResponse r = co_await transport_.Send(request);
  if (r.status == 401) {
    // Say which credential was refused; the server's own message is just "Unauthorized".
    const auto& c = config();
    std::string used = !c.token_file.empty() ? "the token in " + c.token_file
                       : !c.token.empty()    ? "the bearer token"
                       : !c.client_cert_pem.empty()
                           ? "the client certificate (is it signed by the cluster's client CA?)"
                           : "no credentials";
    Error e = ApiErrorFromResponse(r.status, r.body, request.what);
    throw Error(ErrorKind::kApi, std::string(e.what()) + "; the server refused " + used, e.code(),
                e.reason());
  }
  if (r.status < 200 || r.status > 299) throw ApiErrorFromResponse(r.status, r.body, request.what);
  co_return std::move(r.body);
}

Task<json> Client::CallListAll(ResourceType t, std::string ns, ListOptions o) {
  json all;
  json items = json::array();
  for (;;) {
    HttpRequest request = requests::List(t, ns, o);
    json page = co_await Call(std::move(request));
    if (page.contains("items") && page["items"].is_array()) {
      for (auto& item : page["items"]) items.push_back(std::move(item));
    }
    std::string next = page.contains("metadata") ? page["metadata"].value("continue", "") : "";
    all = std::move(page);
    if (next.empty()) break;
    o.continue_token = next;
    o.resource_version.clear();  // the continue token pins the version
  }
  all["items"] = std::move(items);
  if (all.contains("metadata")) all["metadata"].erase("continue");
  co_return all;
}

ClusterConfig LoadConfig(bool in_cluster, const std::string& kubeconfig_path,
                         const std::string& context) {
  return in_cluster ? LoadInCluster() : LoadKubeconfig(kubeconfig_path, context);
}

}  // namespace kube
