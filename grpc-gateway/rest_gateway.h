// The REST/JSON gateway (cpprestsdk's http_listener) over the same handlers as gRPC:
//   POST /v1/<Rpc>   the request and response as the protobuf JSON mapping
//   GET  /v1/usage   usage in total and per workload, with the source that served it
//   GET  /healthz    the process is alive
//   GET  /readyz     the caches have synced and the ledger is rebuilt (503 before)
//   GET  /metrics    Prometheus text format
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "metrics.h"
#include "provider_service.h"
#include "usage.h"

namespace web::http::experimental::listener {
class http_listener;
}

namespace iarnet {

// The HTTP status for a gRPC status code (as grpc-gateway maps them).
int HttpStatusFor(int grpc_code);

class RestGateway {
 public:
  RestGateway(std::string address, ProviderService& service, UsageCollector& usage,
              Metrics& metrics, std::function<bool()> ready);
  ~RestGateway();
  void Start();  // throws std::exception when it cannot listen
  void Stop();

 private:
  std::string address_;
  ProviderService& service_;
  UsageCollector& usage_;
  Metrics& metrics_;
  std::function<bool()> ready_;
  std::unique_ptr<web::http::experimental::listener::http_listener> listener_;
};

}  // namespace iarnet
