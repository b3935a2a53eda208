#include "grpc-gateway/rest_gateway.h"

#include <google/protobuf/util/json_util.h>

#include <nlohmann/json.hpp>

#include "grpc-gateway/grpc_codes.h"
#include "grpc-gateway/rpc_table.h"
#include "grpc-gateway/strict_json.h"
#include "kube/log.h"
#include "kube/text.h"

namespace iarnet {
namespace {

using nlohmann::json;

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

HttpResponse Error(int status, const std::string& code, const std::string& message) {
  return {status, "application/json", Dump({{"code", code}, {"message", message}})};
}

const char* CodeForHttpStatus(int status) {
  switch (status) {
    case 400:
      return "INVALID_ARGUMENT";
    case 408:
      return "DEADLINE_EXCEEDED";
    case 413:
    case 431:
      return "RESOURCE_EXHAUSTED";
    case 503:
      return "UNAVAILABLE";
    default:
      return "UNKNOWN";
  }
}

json ToJson(const Resources& r) { return {{"cpu", r.cpu}, {"memory", r.memory}, {"gpu", r.gpu}}; }

std::string PathOf(const std::string& target) { return target.substr(0, target.find('?')); }

// Known paths by name, every other one as "other", so a scanner cannot grow the series.
std::string PathLabel(const std::string& path) {
  bool known = path == "/healthz" || path == "/readyz" || path == "/metrics" ||
               path == "/v1/usage" || (path.rfind("/v1/", 0) == 0 && FindRpc(path.substr(4)));
  return known ? path : "other";
}

}  // namespace

int HttpStatusFor(int grpc_code) {
  switch (grpc_code) {
    case 0:
      return 200;
    case 1:
      return 499;
    case 3:
      return 400;  // INVALID_ARGUMENT
    case 4:
      return 504;  // DEADLINE_EXCEEDED
    case 5:
      return 404;  // NOT_FOUND
    case 6:
      return 409;  // ALREADY_EXISTS
    case 7:
      return 403;  // PERMISSION_DENIED
    case 8:
      return 429;  // RESOURCE_EXHAUSTED
    case 9:
      return 400;  // FAILED_PRECONDITION
    case 10:
      return 409;  // ABORTED
    case 11:
      return 400;  // OUT_OF_RANGE
    case 12:
      return 501;  // UNIMPLEMENTED
    case 14:
      return 503;  // UNAVAILABLE
    case 16:
      return 401;  // UNAUTHENTICATED
    default:
      return 500;
  }
}

RestGateway::RestGateway(HttpServer::Options options, ProviderService& service,
                         UsageCollector& usage, Metrics& metrics, std::function<bool()> ready)
    : service_(service), usage_(usage), metrics_(metrics), ready_(std::move(ready)) {
  metrics_.Define("iarnet_http_requests_total", Metrics::Type::kCounter,
                  "REST gateway requests, by path and HTTP status.");
  options.runs_inline = [](const HttpRequest& r) {
    std::string path = PathOf(r.target);
    return r.method == "GET" && (path == "/healthz" || path == "/readyz" || path == "/metrics");
  };
  options.on_response = [this](const HttpRequest& r, int status) {
    metrics_.Add("iarnet_http_requests_total",
                 {{"path", PathLabel(PathOf(r.target))}, {"code", std::to_string(status)}});
  };
  options.error_response = [](int status, const std::string& message) {
    return Error(status, CodeForHttpStatus(status), message);
  };
  server_ = std::make_unique<HttpServer>(std::move(options),
                                         [this](const HttpRequest& r) { return Handle(r); });
}

void RestGateway::Start() { server_->Start(); }

HttpResponse RestGateway::Handle(const HttpRequest& req) {
  const std::string path = PathOf(req.target);
  const std::string& method = req.method;
  try {
    if (method == "GET" && path == "/healthz") return {200, "text/plain", "ok\n"};
    if (method == "GET" && path == "/readyz") {
      if (ready_()) return {200, "text/plain", "ok\n"};
      return {503, "text/plain", "not ready: the caches have not synced yet\n"};
    }
    if (method == "GET" && path == "/metrics") {
      return {200, "text/plain; version=0.0.4", metrics_.Render()};
    }
    if (method == "GET" && path == "/v1/usage") {
      if (!ready_()) return Error(503, "UNAVAILABLE", "not ready: the caches have not synced yet");
      UsageReport u = usage_.Current();
      json body = {{"source", ToString(u.source)}, {"total", ToJson(u.total)}};
      if (!u.fallback_reason.empty()) body["fallbackReason"] = u.fallback_reason;
      body["workloads"] = json::array();
      for (const auto& p : u.pods) {
        body["workloads"].push_back(
            {{"pod", p.pod}, {"instanceId", p.instance_id}, {"usage", ToJson(p.usage)}});
      }
      return {200, "application/json", Dump(body)};
    }
    const Rpc* rpc = path.rfind("/v1/", 0) == 0 ? FindRpc(path.substr(4)) : nullptr;
    if (!rpc) {
      return Error(
          404, "NOT_FOUND",
          "no such endpoint: " + kube::EscapeText(method, 16) + " " + kube::Quoted(path, 128));
    }
    if (method != "POST") return Error(405, "METHOD_NOT_ALLOWED", "use POST for " + path);
    auto parsed = ParseJsonRequest(req.body, *rpc->new_request());
    if (auto* bad = std::get_if<JsonInvalid>(&parsed)) {
      return Error(400, "INVALID_ARGUMENT", bad->message);
    }
    const auto& request = std::get<std::unique_ptr<Message>>(parsed);
    auto response = rpc->new_response();
    grpc::Status s = rpc->call(service_, *request, response.get(), {req.remote_ip});
    if (!s.ok()) {
      return Error(HttpStatusFor(s.error_code()), CanonicalCodeName(s.error_code()),
                   s.error_message());
    }
    std::string out;
    google::protobuf::util::JsonPrintOptions o;
    o.always_print_primitive_fields = true;
    (void)google::protobuf::util::MessageToJsonString(*response, &out, o);
    return {200, "application/json", out};
  } catch (const std::exception& e) {
    KLOG(kError, "rest") << method << " " << path << ": " << e.what();
    return Error(500, "INTERNAL", "internal error: " + kube::EscapeText(e.what(), 512));
  }
}

}  // namespace iarnet
