// The operator's Prometheus metrics, under the names controller-runtime users know
// (controller_runtime_reconcile_*, workqueue_*, leader_election_master_status), plus the
// ledger and the control plane connection. Gauges are read from their sources at scrape.
#pragma once

#include <functional>

#include "controller/caches.h"
#include "controller/usage.h"
#include "grpc-gateway/metrics.h"
#include "grpc-gateway/provider_service.h"
#include "kube/workqueue.h"

namespace iarnet {

// Declares the families and the scrape-time collector: the ledger and the cache from
// `caches`, the controller's `queue` and how many workers reconcile now (0 on a
// follower), the connection from `service`.
void DefineOperatorMetrics(Metrics& metrics, Caches& caches, kube::WorkQueue& queue,
                           std::function<int()> active_workers, ProviderService& service,
                           std::function<bool()> is_leader);

// Which usage source served the last report, and the upstream calls per source.
void DefineUsageMetrics(Metrics& metrics, UsageCollector& usage);

// What ControllerOptions::on_outcome should call: rejections and cluster-caused ends
// by reason.
void RecordOutcome(Metrics& metrics, const std::string& what, const std::string& reason);

// What ControllerOptions::on_reconcile should call.
void RecordReconcile(Metrics& metrics, double seconds, const std::string& result);

}  // namespace iarnet
