#include "grpc-gateway/operator_metrics.h"

namespace iarnet {
namespace {
const char* const kController = "iarnetworkload";
}

void RecordReconcile(Metrics& m, double seconds, const std::string& result) {
  m.Add("controller_runtime_reconcile_total", {{"controller", kController}, {"result", result}});
  if (result == "error")
    m.Add("controller_runtime_reconcile_errors_total", {{"controller", kController}});
  m.Observe("controller_runtime_reconcile_time_seconds", {{"controller", kController}}, seconds);
}

void RecordOutcome(Metrics& m, const std::string& what, const std::string& reason) {
  if (what == "rejected") m.Add("iarnet_admission_rejections_total", {{"reason", reason}});
  if (what == "ended") m.Add("iarnet_workloads_ended_total", {{"reason", reason}});
}

void DefineUsageMetrics(Metrics& m, UsageCollector& usage) {
  using T = Metrics::Type;
  m.Define("iarnet_usage_source", T::kGauge,
           "1 for the source that served the last real-time usage report, 0 for the others.");
  m.Define("iarnet_usage_upstream_requests_total", T::kCounter,
           "Requests the usage collector sent to each source (metrics API, kubelet summary).");
  m.AddCollector([&usage](Metrics& m) {
    UsageSource last = usage.LastSource();
    for (UsageSource s : kAllUsageSources) {
      m.Set("iarnet_usage_source", {{"source", ToString(s)}}, s == last ? 1 : 0);
      if (s != UsageSource::kRequests)
        m.Set("iarnet_usage_upstream_requests_total", {{"source", ToString(s)}},
              double(usage.UpstreamCalls(s)));
    }
  });
}

void DefineOperatorMetrics(Metrics& m, Caches& caches, kube::WorkQueue& queue,
                           std::function<int()> active_workers, ProviderService& service,
                           std::function<bool()> is_leader) {
  using T = Metrics::Type;
  m.Define("controller_runtime_reconcile_total", T::kCounter,
           "Reconciliations per controller, by result.");
  m.Define("controller_runtime_reconcile_errors_total", T::kCounter,
           "Reconciliation errors per controller.");
  m.Define("controller_runtime_reconcile_time_seconds", T::kHistogram,
           "Time per reconciliation per controller.", Metrics::LatencyBuckets());
  m.Define("controller_runtime_active_workers", T::kGauge,
           "Workers reconciling per controller (0 on a follower).");
  m.Define("workqueue_depth", T::kGauge, "Current depth of the work queue.");
  m.Define("workqueue_adds_total", T::kCounter, "Adds handled by the work queue.");
  m.Define("workqueue_retries_total", T::kCounter, "Retries handled by the work queue.");
  m.Define("leader_election_master_status", T::kGauge,
           "1 when this replica holds the leader Lease (or runs without election), else 0.");
  m.Define("iarnet_ledger_total", T::kGauge, "The provider's capacity, by resource.");
  m.Define("iarnet_ledger_used", T::kGauge, "The sum of the admission records, by resource.");
  m.Define("iarnet_ledger_available", T::kGauge, "Total minus used, never below 0, by resource.");
  m.Define("iarnet_ledger_admitted_workloads", T::kGauge, "Workloads holding a charge.");
  m.Define("iarnet_control_plane_connected", T::kGauge,
           "1 while a control plane is connected (its id in the label).");
  m.Define("iarnet_cached_workloads", T::kGauge, "IarnetWorkloads in the cache.");
  m.Define("iarnet_admission_rejections_total", T::kCounter,
           "Workloads rejected, by reason (InsufficientCapacity, NoNodeFits, ...).");
  m.Define("iarnet_workloads_ended_total", T::kCounter,
           "Workloads the cluster ended, by reason (Unschedulable, NodeLost).");
  if (caches.node_view()) {
    m.Define("iarnet_cluster_allocatable", T::kGauge,
             "Allocatable of the eligible nodes, by resource (capacity.source nodes).");
    m.Define("iarnet_cluster_free", T::kGauge,
             "Allocatable of the eligible nodes minus every Pod's requests, by resource.");
    m.Define("iarnet_cluster_largest_placeable", T::kGauge,
             "The largest request of each resource alone that one node can hold now.");
    m.Define("iarnet_cluster_eligible_nodes", T::kGauge, "Nodes this provider may use now.");
  }

  m.AddCollector([&caches, &queue, active_workers, &service, is_leader](Metrics& m) {
    auto q = queue.stats();
    Labels name = {{"name", queue.name()}};
    m.Set("workqueue_depth", name, double(q.depth));
    m.Set("workqueue_adds_total", name, double(q.adds));
    m.Set("workqueue_retries_total", name, double(q.retries));
    bool leading = is_leader();
    m.Set("leader_election_master_status", {{"name", "iarnet-k8s-provider"}}, leading ? 1 : 0);
    m.Set("controller_runtime_active_workers", {{"controller", kController}}, active_workers());
    Ledger l = caches.CurrentLedger();
    auto set = [&m](const char* family, const Resources& r) {
      m.Set(family, {{"resource", "cpu"}}, double(r.cpu));
      m.Set(family, {{"resource", "memory"}}, double(r.memory));
      m.Set(family, {{"resource", "gpu"}}, double(r.gpu));
    };
    if (NodeView* view = caches.node_view()) {
      ClusterView v = view->View();
      set("iarnet_cluster_allocatable", v.allocatable);
      set("iarnet_cluster_free", v.free);
      set("iarnet_cluster_largest_placeable", v.largest_placeable);
      m.Set("iarnet_cluster_eligible_nodes", {}, double(v.eligible_nodes));
    }
    set("iarnet_ledger_total", l.total);
    set("iarnet_ledger_used", l.used);
    set("iarnet_ledger_available", l.available);
    m.Set("iarnet_ledger_admitted_workloads", {}, double(l.admitted));
    m.Set("iarnet_cached_workloads", {}, double(caches.workloads().Size()));
    std::string id = service.ConnectedId();
    m.Set("iarnet_control_plane_connected", {}, id.empty() ? 0 : 1);
  });
}

}  // namespace iarnet
