// The REST/JSON gateway over the same handlers as gRPC, served by HttpServer (which
// says why it is not cpprestsdk):
//   POST /v1/<Rpc>   the request and response as the protobuf JSON mapping, read strictly
//                    (strict_json.h): unknown or ill-typed fields are a 400 naming them
//   GET  /v1/usage   usage in total and per workload, with the source that served it
//   GET  /healthz    the process is alive
//   GET  /readyz     the caches have synced and the ledger is rebuilt (503 before)
//   GET  /metrics    Prometheus text format
// Client mistakes are 4xx with {"code", "message"}, never 5xx; messages quote client
// strings escaped and bounded. /healthz, /readyz and /metrics are answered on the I/O
// thread, so they never wait behind Deploys.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "controller/usage.h"
#include "grpc-gateway/http_server.h"
#include "grpc-gateway/metrics.h"
#include "grpc-gateway/provider_service.h"

namespace iarnet {

// The HTTP status for a gRPC status code (as grpc-gateway maps them).
int HttpStatusFor(int grpc_code);

class RestGateway {
 public:
  // `options` says where to listen and the limits for clients (http_server.h).
  RestGateway(HttpServer::Options options, ProviderService& service, UsageCollector& usage,
              Metrics& metrics, std::function<bool()> ready);
  void Start();  // throws std::exception when it cannot listen
  int port() const { return server_->port(); }
  void BeginShutdown() { server_->BeginShutdown(); }
  void Stop(std::chrono::steady_clock::time_point deadline) { server_->Stop(deadline); }

 private:
  HttpResponse Handle(const HttpRequest& request);

  ProviderService& service_;
  UsageCollector& usage_;
  Metrics& metrics_;
  std::function<bool()> ready_;
  std::unique_ptr<HttpServer> server_;
};

}  // namespace iarnet
