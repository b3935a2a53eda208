#include "rest_gateway.h"

#include <cpprest/http_listener.h>
#include <google/protobuf/util/json_util.h>

#include "kube/log.h"
#include "rpc_table.h"

namespace iarnet {
namespace {

using web::http::http_request;
using web::http::methods;
using web::http::status_code;

void Reply(http_request& req, int code, const std::string& body, const std::string& type) {
  web::http::http_response resp(static_cast<status_code>(code));
  resp.set_body(body, type);
  req.reply(resp);
}

void ReplyError(http_request& req, int http, const std::string& code, const std::string& msg) {
  nlohmann::json body = {{"code", code}, {"message", msg}};
  Reply(req, http, body.dump(), "application/json");
}

const char* const kGrpcCodeNames[] = {
    "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
    "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
    "DATA_LOSS", "UNAUTHENTICATED"};

nlohmann::json ToJson(const Resources& r) {
  return {{"cpu", r.cpu}, {"memory", r.memory}, {"gpu", r.gpu}};
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

RestGateway::RestGateway(std::string address, ProviderService& service, UsageCollector& usage,
                         Metrics& metrics, std::function<bool()> ready)
    : address_(std::move(address)),
      service_(service),
      usage_(usage),
      metrics_(metrics),
      ready_(std::move(ready)) {
  metrics_.Define("iarnet_http_requests_total", Metrics::Type::kCounter,
                  "REST gateway requests, by path and HTTP status.");
}

RestGateway::~RestGateway() { Stop(); }

void RestGateway::Start() {
  using web::http::experimental::listener::http_listener;
  listener_ = std::make_unique<http_listener>(address_);
  listener_->support([this](http_request req) {
    std::string path = req.relative_uri().path();
    std::string method = req.method();
    int code = 200;
    auto reply = [&](int c, const std::string& body, const std::string& type) {
      code = c;
      Reply(req, c, body, type);
    };
    try {
      if (method == methods::GET && path == "/healthz") {
        reply(200, "ok\n", "text/plain");
      } else if (method == methods::GET && path == "/readyz") {
        if (ready_())
          reply(200, "ok\n", "text/plain");
        else
          reply(503, "not ready: the caches have not synced yet\n", "text/plain");
      } else if (method == methods::GET && path == "/metrics") {
        reply(200, metrics_.Render(), "text/plain; version=0.0.4");
      } else if (method == methods::GET && path == "/v1/usage") {
        UsageReport u = usage_.Current();
        nlohmann::json body = {{"source", ToString(u.source)}, {"total", ToJson(u.total)}};
        if (!u.fallback_reason.empty()) body["fallbackReason"] = u.fallback_reason;
        body["workloads"] = nlohmann::json::array();
        for (const auto& p : u.pods) {
          body["workloads"].push_back(
              {{"pod", p.pod}, {"instanceId", p.instance_id}, {"usage", ToJson(p.usage)}});
        }
        reply(200, body.dump(), "application/json");
      } else if (path.rfind("/v1/", 0) == 0 && FindRpc(path.substr(4))) {
        if (method != methods::POST) {
          code = 405;
          ReplyError(req, 405, "METHOD_NOT_ALLOWED", "use POST for " + path);
        } else {
          const Rpc& rpc = *FindRpc(path.substr(4));
          auto request = rpc.new_request();
          auto response = rpc.new_response();
          std::string body = req.extract_utf8string(true).get();
          auto parsed = google::protobuf::util::JsonStringToMessage(body.empty() ? "{}" : body,
                                                                    request.get());
          if (!parsed.ok()) {
            code = 400;
            ReplyError(req, 400, "INVALID_ARGUMENT",
                       "the body is not a valid " + request->GetTypeName() +
                           " in JSON: " + std::string(parsed.message()));
          } else {
            grpc::Status s = rpc.call(service_, *request, response.get());
            if (s.ok()) {
              std::string out;
              google::protobuf::util::JsonPrintOptions o;
              o.always_print_primitive_fields = true;
              (void)google::protobuf::util::MessageToJsonString(*response, &out, o);
              reply(200, out, "application/json");
            } else {
              code = HttpStatusFor(s.error_code());
              int c = s.error_code();
              ReplyError(req, code, c >= 0 && c < 17 ? kGrpcCodeNames[c] : "UNKNOWN",
                         s.error_message());
            }
          }
        }
      } else {
        code = 404;
        ReplyError(req, 404, "NOT_FOUND", "no such endpoint: " + method + " " + path);
      }
    } catch (const std::exception& e) {
      code = 500;
      ReplyError(req, 500, "INTERNAL", e.what());
    }
    // Unknown paths share one label value, so a scanner cannot grow the series.
    bool known = path == "/healthz" || path == "/readyz" || path == "/metrics" ||
                 path == "/v1/usage" || (path.rfind("/v1/", 0) == 0 && FindRpc(path.substr(4)));
    metrics_.Add("iarnet_http_requests_total",
                 {{"path", known ? path : "other"}, {"code", std::to_string(code)}});
  });
  listener_->open().wait();
}

void RestGateway::Stop() {
  if (!listener_) return;
  try {
    listener_->close().wait();
  } catch (const std::exception& e) {
    KLOG(kWarning, "rest") << "closing the listener: " << e.what();
  }
  listener_.reset();
}

}  // namespace iarnet
