// The operator's Prometheus metrics, under the names controller-runtime users know
// (controller_runtime_reconcile_*, workqueue_*, leader_election_master_status), plus the
// ledger and the control plane connection. Gauges are read from their sources at scrape.
#pragma once

#include <functional>

#include "metrics.h"
#include "provider_service.h"
#include "usage.h"
#include "workload_controller.h"

namespace iarnet {

// Declares the families and the scrape-time collector.
void DefineOperatorMetrics(Metrics& metrics, WorkloadController& controller,
                           ProviderService& service, std::function<bool()> is_leader);

// Which usage source served the last report, and the upstream calls per source.
void DefineUsageMetrics(Metrics& metrics, UsageCollector& usage);

// What ControllerOptions::on_reconcile should call.
void RecordReconcile(Metrics& metrics, double seconds, const std::string& result);

}  // namespace iarnet
