// The provider protocol's handlers (PROTOCOL.md), shared by the gRPC services (both
// names) and the REST gateway. They never touch Pods: Deploy writes an IarnetWorkload
// and waits on the watch for the controller's verdict; Undeploy deletes it and waits
// for the release; capacity and usage come from the caches; the connected control
// plane lives in IarnetProvider status, so a restart keeps it.
#pragma once

#include <atomic>

#include <grpcpp/support/status.h>

#include <chrono>
#include <functional>
#include <mutex>
#include <string>

#include "controller/caches.h"
#include "controller/usage.h"
#include "grpc-gateway/change_notifier.h"
#include "grpc-gateway/connection.h"
#include "grpc-gateway/connection_recorder.h"
#include "grpc-gateway/health_check_tally.h"
#include "grpc-gateway/metrics.h"
#include "grpc-gateway/peer_address.h"
#include "kube/client.h"
#include "resource/provider/provider.pb.h"

namespace iarnet {

struct ServiceOptions {
  ConnectionPolicy connection;
  std::chrono::milliseconds deploy_timeout{60000};
  std::chrono::milliseconds undeploy_timeout{10000};
};

class ProviderService {
 public:
  ProviderService(kube::Client& client, Caches& caches, UsageCollector& usage,
                  ChangeNotifier& workload_changes, Metrics& metrics, ServiceOptions options);

  using S = grpc::Status;
  S Connect(const resource::provider::ConnectRequest& r, resource::provider::ConnectResponse* out,
            const CallContext& context);
  S Disconnect(const resource::provider::DisconnectRequest& r,
               resource::provider::DisconnectResponse* out);
  S GetCapacity(const resource::provider::GetCapacityRequest& r,
                resource::provider::GetCapacityResponse* out);
  S GetAvailable(const resource::provider::GetAvailableRequest& r,
                 resource::provider::GetAvailableResponse* out);
  S Deploy(const resource::provider::DeployRequest& r, resource::provider::DeployResponse* out);
  S Undeploy(const resource::provider::UndeployRequest& r,
             resource::provider::UndeployResponse* out);
  S HealthCheck(const resource::provider::HealthCheckRequest& r,
                resource::provider::HealthCheckResponse* out);
  S GetRealTimeUsage(const resource::provider::GetRealTimeUsageRequest& r,
                     resource::provider::GetRealTimeUsageResponse* out);

  // The connected control plane's id ("" when none), for metrics and logs.
  std::string ConnectedId();

  // Off until the caches have synced (main turns it on): before that every RPC is
  // answered UNAVAILABLE by the RPC table, since the cache would read as an empty cluster.
  void SetServing(bool on) { serving_ = on; }
  bool Serving() const { return serving_; }

  // Logs a change of the connected control plane that no call reported (it went silent)
  // and, once a minute, a summary of the health checks. Called by main every second.
  void LogConnectionSummary();

 private:
  // Reads the record, decides with `decide`, writes conditionally; retries conflicts.
  template <class Decide>
  ConnectionOutcome UpdateConnection(Decide decide);
  // What the provider knows of the connection: the cached record, or the newer checks it
  // answered and has not seen stored yet (connection.h: Known).
  ControlPlane KnownControlPlane();
  // Stores a health check's record in the background (ConnectionRecorder).
  void StoreHealthCheck(const ControlPlane& record);
  // Why a call from `provider_id` is refused, or "" when it is allowed.
  std::string Refusal(const std::string& provider_id);
  std::string DeployLocked(const resource::provider::DeployRequest& r, std::string* result);
  std::string UndeployLocked(const resource::provider::UndeployRequest& r, std::string* result);
  void Tally(const std::function<void(HealthCheckTally&)>& change);
  // Deletes the workload (uid) a failed Deploy judged, releasing its finalizer if it was
  // never admitted.
  void DeleteWorkload(const std::string& name, const std::string& uid);
  // Marks the workload's Deploy answered (kDeployAnnotation), by `deadline`; throws
  // kube::Error when it cannot.
  void RecordAnswered(const std::string& name, const std::string& uid,
                      std::chrono::steady_clock::time_point deadline);
  // A call to the API server that ends by `deadline` (a Deploy's): kube::Error otherwise.
  kube::json CallBy(kube::HttpRequest request, std::chrono::steady_clock::time_point deadline);

  kube::Client& client_;
  Caches& caches_;
  UsageCollector& usage_;
  ChangeNotifier& changes_;
  Metrics& metrics_;
  ServiceOptions options_;
  std::string ns_;
  std::atomic<bool> serving_{false};
  std::atomic<bool> warned_unreachable_{false};  // the host.internal warning, said once
  std::mutex tally_mu_;                          // guards tally_; a leaf lock
  HealthCheckTally tally_;
  ConnectionRecorder recorder_;  // last: its writer thread uses the members above
};

}  // namespace iarnet
