// The provider's configuration file (config.yaml) and its command-line overrides.
//
// Every key of the original iarnet provider's config.yaml keeps its meaning:
//   server.port, kubernetes.{kubeconfig,namespace,in_cluster,allow_connection_failure},
//   resource.{cpu,memory,gpu}, resource_tags; kubernetes.label_selector is accepted only
//   with its old default, iarnet.managed=true (the Pods the operator labels).
// Parsing is pure (text in, Config or an error naming the key out); reading the file is
// the only I/O, in LoadConfigFile.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "api/iarnet_types.h"
#include "api/vocabulary.h"

namespace iarnet {

using Millis = std::chrono::milliseconds;

struct Config {
  struct Server {
    int port = 50052;
    int http_port = 8080;  // REST gateway, /healthz, /readyz, /metrics; 0 turns it off
    // TLS for gRPC when cert_file and key_file are set; mTLS when client_ca_file is too.
    std::string tls_cert_file, tls_key_file, tls_client_ca_file;
    Millis shutdown_grace{10000};  // in-flight calls may finish within this
    // REST: a request (headers and body) must arrive within this, and an idle keep-alive
    // connection is closed after it; at most this many connections at once.
    Millis http_read_timeout{10000};
    int http_max_connections = 256;
  } server;
  struct Kubernetes {
    std::string kubeconfig;  // empty: KUBECONFIG or ~/.kube/config, unless in_cluster
    std::string namespace_ = "default";
    bool in_cluster = false;
    bool allow_connection_failure = false;
  } kubernetes;
  struct Resource {
    // With capacity.source nodes, a cap on what the eligible nodes can hold; "auto"
    // (kUncapped): no cap. With capacity.source config, the capacity itself.
    int64_t cpu_millicores = 8000;
    int64_t memory_bytes = int64_t{8} << 30;
    int64_t gpu = 0;
  } resource;
  struct Capacity {
    // nodes: what the eligible nodes can hold decides (capped by resource.*), and
    // admission needs a node with room (RBAC: get/list/watch nodes and pods
    // cluster-wide). config: resource.* alone, no node view.
    enum class Source { kNodes, kConfig } source = Source::kNodes;
    // The nodes component Pods may run on (their nodeSelector; and which nodes count).
    std::map<std::string, std::string> node_selector;
  } capacity;
  std::vector<std::string> resource_tags;  // any of cpu, gpu, memory, camera
  struct Provider {
    std::string name = "iarnet-provider";  // the IarnetProvider object
    // Language -> image: what supported_languages reports and what Deploy runs.
    std::vector<LanguageImage> languages = {
        {Language::kPython, "iarnet/component:python_3.11-latest"}};
    // Added to every Pod's /etc/hosts, e.g. host.internal -> the control plane.
    std::vector<HostAlias> host_aliases;
    Millis deploy_timeout{60000};        // Deploy waits this long for the container to run
    Millis undeploy_timeout{10000};      // Undeploy waits this long for the release
    Millis health_check_timeout{90000};  // a silent control plane is forgotten after this
    // ...or sooner: after two of its measured check intervals plus 5 s, but never sooner
    // than this (connection.h), so that a re-registered control plane need not wait.
    Millis takeover_floor{15000};
    Millis image_pull_timeout{60000};  // a Pod that cannot pull its image fails after this
    Millis schedule_timeout{30000};    // a Pod no node can run fails after this (Unschedulable)
    // A workload whose node is deleted, or not Ready this long, ends (NodeLost).
    Millis node_lost_grace{60000};
    // A Deploy's workload whose control-plane session ended (Disconnect, silence, another
    // id connected) is deleted orphan_grace later unless that control plane comes back
    // (delete), or kept until someone deletes it (keep). Never kubectl/GitOps workloads.
    enum class OrphanPolicy { kDelete, kKeep } orphan_policy = OrphanPolicy::kDelete;
    Millis orphan_grace{600000};
    // Component Pods run as this user id (and group), never root; unset: the image's user.
    std::optional<int64_t> component_user;
  } provider;
  struct Usage {
    // Fall back to the kubelet summary (node proxy; RBAC: get nodes/proxy) when the
    // metrics API is absent; off: straight to the requests of Running Pods.
    bool kubelet_summary = true;
  } usage;
  struct LeaderElection {
    bool enabled = false;  // on when more than one replica runs
    std::string lease_name = "iarnet-k8s-provider";
    Millis lease_duration{15000};
    Millis renew_deadline{10000};
    Millis retry_period{2000};
  } leader_election;
};

struct ConfigError {
  std::string message;  // names the file (when there is one) and the key
};
using ConfigResult = std::variant<Config, ConfigError>;

// Parses YAML text; `source` names it in error messages.
ConfigResult ParseConfig(const std::string& yaml_text, const std::string& source);

// Reads and parses a file. An unreadable file is an error that names it.
ConfigResult LoadConfigFile(const std::string& path);

// The effective configuration as sorted `key=value` lines (keys as in the YAML file,
// quantities in base units: millicores, bytes), for --print-config and scripts.
std::string FormatConfig(const Config& config);

// "10s", "500ms", "1m30s", "2h"; a bare number means seconds. nullopt when malformed
// or negative.
std::optional<Millis> ParseDuration(const std::string& text);

// Command-line overrides, applied after the file.
struct ConfigOverrides {
  std::optional<std::string> kubeconfig;
  std::optional<std::string> namespace_;
  std::optional<int> port;
  std::optional<int> http_port;
  std::optional<bool> leader_elect;
};
std::optional<ConfigError> ApplyOverrides(Config& config, const ConfigOverrides& overrides);

}  // namespace iarnet
