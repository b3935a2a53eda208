#include "grpc-gateway/options.h"

#include <algorithm>

namespace iarnet {

ProviderSpec ProviderSpecFrom(const Config& config) {
  ProviderSpec spec;
  spec.capacity = {config.resource.cpu_millicores, config.resource.memory_bytes,
                   config.resource.gpu};
  for (const auto& t : config.resource_tags) {
    if (t == "cpu") spec.resource_tags.cpu = true;
    if (t == "gpu") spec.resource_tags.gpu = true;
    if (t == "memory") spec.resource_tags.memory = true;
    if (t == "camera") spec.resource_tags.camera = true;
  }
  spec.languages = config.provider.languages;
  spec.host_aliases = config.provider.host_aliases;
  return spec;
}

kube::TransportOptions TransportOptionsFrom(const Config&) {
  kube::TransportOptions o;
  o.user_agent = "iarnet-k8s-provider";
  return o;
}

CachesOptions CachesOptionsFrom(const Config& config) {
  CachesOptions o;
  o.namespace_ = config.kubernetes.namespace_;
  o.provider_name = config.provider.name;
  o.provider_spec = ProviderSpecFrom(config);
  if (config.capacity.source == Config::Capacity::Source::kNodes) {
    NodeViewOptions view;
    view.node_selector = config.capacity.node_selector;
    o.node_view = view;
  }
  return o;
}

ControllerOptions ControllerOptionsFrom(const Config& config) {
  ControllerOptions o;
  o.image_pull_timeout = config.provider.image_pull_timeout;
  // A Deploy ends within deploy_timeout of creating its workload, plus its last writes;
  // the margin also covers the skew between our clock and the API server's, which
  // stamped the creation.
  o.interrupted_deploy_after = config.provider.deploy_timeout + std::chrono::seconds(10);
  if (config.provider.orphan_policy == Config::Provider::OrphanPolicy::kDelete)
    o.orphan_grace = config.provider.orphan_grace;
  o.schedule_timeout = config.provider.schedule_timeout;
  o.node_lost_grace = config.provider.node_lost_grace;  // used only with the node view
  o.node_selector = config.capacity.node_selector;
  o.component_user = config.provider.component_user;
  return o;
}

UsageOptions UsageOptionsFrom(const Config& config) {
  UsageOptions o;
  o.namespace_ = config.kubernetes.namespace_;
  o.kubelet_summary = config.usage.kubelet_summary;
  return o;
}

ServiceOptions ServiceOptionsFrom(const Config& config) {
  ServiceOptions o;
  o.connection.timeout = config.provider.health_check_timeout;
  o.connection.takeover_floor = config.provider.takeover_floor;
  // Stored health checks are refreshed often enough that the timeout never fires while
  // the control plane keeps calling.
  o.connection.health_write_every = std::min<std::chrono::milliseconds>(
      std::chrono::seconds(10), config.provider.health_check_timeout / 3);
  o.deploy_timeout = config.provider.deploy_timeout;
  o.undeploy_timeout = config.provider.undeploy_timeout;
  return o;
}

HttpServer::Options HttpOptionsFrom(const Config& config) {
  HttpServer::Options o;
  o.port = config.server.http_port;
  o.read_timeout = config.server.http_read_timeout;
  o.write_timeout = config.server.http_read_timeout;
  o.max_connections = static_cast<size_t>(config.server.http_max_connections);
  return o;
}

kube::LeaderElector::Options ElectorOptionsFrom(const Config& config, const std::string& identity) {
  kube::LeaderElector::Options o;
  o.lease_namespace = config.kubernetes.namespace_;
  o.lease_name = config.leader_election.lease_name;
  o.identity = identity;
  o.lease_duration = config.leader_election.lease_duration;
  o.renew_deadline = config.leader_election.renew_deadline;
  o.retry_period = config.leader_election.retry_period;
  o.user_agent = "iarnet-k8s-provider leader-election";
  return o;
}

}  // namespace iarnet
