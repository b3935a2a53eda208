// The provider's configuration file (config.yaml) and its command-line overrides.
//
// Every key of the original iarnet provider's config.yaml keeps its meaning:
//   server.port, kubernetes.{kubeconfig,namespace,in_cluster,label_selector,
//   allow_connection_failure}, resource.{cpu,memory,gpu}, resource_tags.
// Parsing is pure (text in, Config or an error naming the key out); reading the file is
// the only I/O, in LoadConfigFile.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace iarnet {

struct Config {
  struct Server {
    int port = 50052;
  } server;
  struct Kubernetes {
    std::string kubeconfig;  // empty: KUBECONFIG or ~/.kube/config, unless in_cluster
    std::string namespace_ = "default";
    bool in_cluster = false;
    std::string label_selector = "iarnet.managed=true";
    bool allow_connection_failure = false;
  } kubernetes;
  struct Resource {
    int64_t cpu_millicores = 8000;
    int64_t memory_bytes = int64_t{8} << 30;
    int64_t gpu = 0;
  } resource;
  std::vector<std::string> resource_tags;  // any of cpu, gpu, memory, camera
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

// Command-line overrides, applied after the file.
struct ConfigOverrides {
  std::optional<std::string> kubeconfig;
  std::optional<std::string> namespace_;
  std::optional<int> port;
};
std::optional<ConfigError> ApplyOverrides(Config& config, const ConfigOverrides& overrides);

}  // namespace iarnet
