#include "grpc-gateway/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

#include "api/image_reference.h"
#include "api/names.h"
#include "api/quantity.h"

namespace iarnet {
namespace {

// Thrown inside the parser only; ParseConfig turns it into a ConfigError.
struct KeyError {
  std::string key;
  std::string why;
};

std::string Join(const std::string& prefix, const std::string& key) {
  return prefix.empty() ? key : prefix + "." + key;
}

// Rejects keys we do not know, so that a typo is an error rather than a silent default.
void CheckKeys(const YAML::Node& node, const std::string& path,
               const std::set<std::string>& known) {
  if (!node.IsMap()) throw KeyError{path.empty() ? "(top level)" : path, "must be a mapping"};
  for (const auto& kv : node) {
    std::string key = kv.first.as<std::string>();
    if (!known.count(key)) throw KeyError{Join(path, key), "unknown key"};
  }
}

std::string Scalar(const YAML::Node& node, const std::string& key) {
  if (!node.IsScalar()) throw KeyError{key, "must be a scalar"};
  return node.Scalar();
}

bool Bool(const YAML::Node& node, const std::string& key) {
  bool value = false;
  if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value)) {
    throw KeyError{key, "must be true or false, got \"" + node.Scalar() + "\""};
  }
  return value;
}

int64_t NonNegative(QuantityResult result, const std::string& key) {
  if (auto* e = std::get_if<QuantityError>(&result)) throw KeyError{key, e->message};
  int64_t v = std::get<int64_t>(result);
  if (v < 0) throw KeyError{key, "must not be negative"};
  return v;
}

// The original provider takes cpu as plain millicores ("4000"); a Kubernetes quantity
// with a suffix ("4", "500m") is accepted too and means cores, as in a Pod spec.
int64_t CpuMillicores(const YAML::Node& node, const std::string& key) {
  std::string text = Scalar(node, key);
  bool plain_integer = !text.empty() && text.find_first_not_of("0123456789") == std::string::npos;
  if (plain_integer) return NonNegative(ParseQuantity(text), key);
  if (text.size() > 1 && text[0] == '-') throw KeyError{key, "must not be negative"};
  return NonNegative(ParseMilliQuantity(text), key);
}

int Port(const YAML::Node& node, const std::string& key, int lowest) {
  int port = 0;
  if (!node.IsScalar() || !YAML::convert<int>::decode(node, port) || port < lowest ||
      port > 65535) {
    throw KeyError{key, "must be a port number from " + std::to_string(lowest) + " to 65535"};
  }
  return port;
}

Millis Duration(const YAML::Node& node, const std::string& key) {
  auto d = ParseDuration(Scalar(node, key));
  if (!d) throw KeyError{key, "must be a duration such as 10s, 500ms or 1m30s"};
  return *d;
}

Millis PositiveDuration(const YAML::Node& node, const std::string& key) {
  Millis d = Duration(node, key);
  if (d.count() <= 0) throw KeyError{key, "must be more than 0"};
  return d;
}

// section.key, when present, as a duration above zero.
void OptionalPositiveDuration(const YAML::Node& section, const std::string& name, const char* key,
                              Millis& out) {
  if (auto v = section[key]) out = PositiveDuration(v, name + "." + key);
}

void ParseServer(const YAML::Node& s, Config::Server& out) {
  CheckKeys(
      s, "server",
      {"port", "http_port", "tls", "shutdown_grace", "http_read_timeout", "http_max_connections"});
  if (auto p = s["port"]) out.port = Port(p, "server.port", 1);
  if (auto p = s["http_port"]) out.http_port = Port(p, "server.http_port", 0);
  if (auto g = s["shutdown_grace"]) out.shutdown_grace = Duration(g, "server.shutdown_grace");
  OptionalPositiveDuration(s, "server", "http_read_timeout", out.http_read_timeout);
  if (auto m = s["http_max_connections"]) {
    int n = 0;
    if (!m.IsScalar() || !YAML::convert<int>::decode(m, n) || n < 1 || n > 65536)
      throw KeyError{"server.http_max_connections", "must be a whole number from 1 to 65536"};
    out.http_max_connections = n;
  }
  if (auto t = s["tls"]) {
    CheckKeys(t, "server.tls", {"cert_file", "key_file", "client_ca_file"});
    if (auto v = t["cert_file"]) out.tls_cert_file = Scalar(v, "server.tls.cert_file");
    if (auto v = t["key_file"]) out.tls_key_file = Scalar(v, "server.tls.key_file");
    if (auto v = t["client_ca_file"])
      out.tls_client_ca_file = Scalar(v, "server.tls.client_ca_file");
    if (out.tls_cert_file.empty() != out.tls_key_file.empty())
      throw KeyError{"server.tls", "cert_file and key_file go together"};
    if (!out.tls_client_ca_file.empty() && out.tls_cert_file.empty())
      throw KeyError{"server.tls.client_ca_file", "mTLS needs cert_file and key_file too"};
  }
}

// An RFC 1123 host name or an IP address: what /etc/hosts accepts.
bool HostName(const std::string& h) {
  if (h.empty() || h.size() > 253) return false;
  for (char ch : h) {
    if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '.')) return false;
  }
  return h.front() != '-' && h.front() != '.';
}

bool IpAddress(const std::string& ip) {
  if (ip.empty() || ip.size() > 45) return false;
  bool colon = ip.find(':') != std::string::npos;
  for (char ch : ip) {
    bool ok = colon ? (std::isxdigit(static_cast<unsigned char>(ch)) || ch == ':' || ch == '.')
                    : (std::isdigit(static_cast<unsigned char>(ch)) || ch == '.');
    if (!ok) return false;
  }
  return colon || std::count(ip.begin(), ip.end(), '.') == 3;
}

void ParseProvider(const YAML::Node& p, Config::Provider& out) {
  CheckKeys(p, "provider",
            {"name", "languages", "host_aliases", "deploy_timeout", "undeploy_timeout",
             "health_check_timeout", "image_pull_timeout", "takeover_floor", "orphan_policy",
             "orphan_grace", "schedule_timeout", "node_lost_grace", "component_user"});
  if (auto v = p["name"]) {
    out.name = Scalar(v, "provider.name");
    if (out.name.empty() || out.name.size() > 63 || !HostName(out.name) ||
        out.name.find('.') != std::string::npos ||
        std::any_of(out.name.begin(), out.name.end(), [](char ch) { return std::isupper(ch); }))
      throw KeyError{"provider.name", "must be a DNS label (lower case, digits, '-')"};
  }
  if (auto l = p["languages"]) {
    if (!l.IsMap()) throw KeyError{"provider.languages", "must map a language to an image"};
    out.languages.clear();
    for (const auto& kv : l) {
      std::string name = kv.first.as<std::string>();
      std::string key = "provider.languages." + name;
      auto lang = ParseLanguage(name);
      if (!lang) throw KeyError{key, "unknown language (json, go, python, unikernel)"};
      std::string image = Scalar(kv.second, key);
      if (image.empty()) throw KeyError{key, "the image must not be empty"};
      if (auto problem = ImageReferenceProblem(image)) {
        throw KeyError{key, "\"" + image + "\" is not a valid image reference: " + *problem};
      }
      out.languages.push_back({*lang, image});
    }
  }
  if (auto h = p["host_aliases"]) {
    if (!h.IsSequence()) throw KeyError{"provider.host_aliases", "must be a list"};
    out.host_aliases.clear();
    for (size_t i = 0; i < h.size(); ++i) {
      std::string key = "provider.host_aliases[" + std::to_string(i) + "]";
      CheckKeys(h[i], key, {"ip", "hostnames"});
      HostAlias alias;
      if (auto ip = h[i]["ip"]) alias.ip = Scalar(ip, key + ".ip");
      if (!IpAddress(alias.ip)) throw KeyError{key + ".ip", "must be an IP address"};
      auto names = h[i]["hostnames"];
      if (!names || !names.IsSequence() || names.size() == 0)
        throw KeyError{key + ".hostnames", "must be a non-empty list"};
      for (size_t j = 0; j < names.size(); ++j) {
        std::string nkey = key + ".hostnames[" + std::to_string(j) + "]";
        std::string name = Scalar(names[j], nkey);
        if (!HostName(name)) throw KeyError{nkey, "must be a host name"};
        alias.hostnames.push_back(name);
      }
      out.host_aliases.push_back(alias);
    }
  }
  OptionalPositiveDuration(p, "provider", "deploy_timeout", out.deploy_timeout);
  OptionalPositiveDuration(p, "provider", "undeploy_timeout", out.undeploy_timeout);
  OptionalPositiveDuration(p, "provider", "health_check_timeout", out.health_check_timeout);
  OptionalPositiveDuration(p, "provider", "image_pull_timeout", out.image_pull_timeout);
  OptionalPositiveDuration(p, "provider", "takeover_floor", out.takeover_floor);
  if (auto v = p["orphan_policy"]) {
    std::string policy = Scalar(v, "provider.orphan_policy");
    if (policy == "delete") {
      out.orphan_policy = Config::Provider::OrphanPolicy::kDelete;
    } else if (policy == "keep") {
      out.orphan_policy = Config::Provider::OrphanPolicy::kKeep;
    } else {
      throw KeyError{"provider.orphan_policy", "must be delete or keep, got \"" + policy + "\""};
    }
  }
  OptionalPositiveDuration(p, "provider", "orphan_grace", out.orphan_grace);
  OptionalPositiveDuration(p, "provider", "schedule_timeout", out.schedule_timeout);
  OptionalPositiveDuration(p, "provider", "node_lost_grace", out.node_lost_grace);
  if (auto u = p["component_user"]) {
    // 0 is root, which runAsNonRoot refuses; Linux ids are 32-bit.
    int64_t id = 0;
    if (!u.IsScalar() || !YAML::convert<int64_t>::decode(u, id) || id < 1 || id > 4294967294)
      throw KeyError{"provider.component_user", "must be a user id from 1 to 4294967294"};
    out.component_user = id;
  }
}

// A label key: an optional DNS-subdomain prefix and "/", then a name of at most 63.
bool IsLabelKey(const std::string& key) {
  auto slash = key.rfind('/');
  std::string name = slash == std::string::npos ? key : key.substr(slash + 1);
  if (slash != std::string::npos) {
    std::string prefix = key.substr(0, slash);
    if (prefix.empty() || prefix.size() > 253 || !HostName(prefix)) return false;
  }
  return !name.empty() && IsLabelValue(name);
}

void ParseCapacity(const YAML::Node& c, Config::Capacity& out) {
  CheckKeys(c, "capacity", {"source", "node_selector"});
  if (auto v = c["source"]) {
    std::string source = Scalar(v, "capacity.source");
    if (source == "nodes") {
      out.source = Config::Capacity::Source::kNodes;
    } else if (source == "config") {
      out.source = Config::Capacity::Source::kConfig;
    } else {
      throw KeyError{"capacity.source", "must be nodes or config, got \"" + source + "\""};
    }
  }
  if (auto s = c["node_selector"]) {
    if (!s.IsMap()) throw KeyError{"capacity.node_selector", "must be a mapping of labels"};
    for (const auto& kv : s) {
      std::string key = kv.first.as<std::string>();
      std::string path = "capacity.node_selector." + key;
      std::string value = Scalar(kv.second, path);
      if (!IsLabelKey(key)) throw KeyError{path, "is not a label key"};
      if (!IsLabelValue(value)) throw KeyError{path, "\"" + value + "\" is not a label value"};
      out.node_selector[key] = value;
    }
  }
}

// resource.KEY: a quantity, or auto (no cap; only with capacity.source nodes).
bool IsAuto(const YAML::Node& node) { return node.IsScalar() && node.Scalar() == "auto"; }

void ParseLeaderElection(const YAML::Node& l, Config::LeaderElection& out) {
  CheckKeys(l, "leader_election",
            {"enabled", "lease_name", "lease_duration", "renew_deadline", "retry_period"});
  if (auto v = l["enabled"]) out.enabled = Bool(v, "leader_election.enabled");
  if (auto v = l["lease_name"]) {
    out.lease_name = Scalar(v, "leader_election.lease_name");
    if (!HostName(out.lease_name))
      throw KeyError{"leader_election.lease_name", "must be a DNS name"};
  }
  OptionalPositiveDuration(l, "leader_election", "lease_duration", out.lease_duration);
  OptionalPositiveDuration(l, "leader_election", "renew_deadline", out.renew_deadline);
  OptionalPositiveDuration(l, "leader_election", "retry_period", out.retry_period);
  // client-go's rules: otherwise two replicas can both believe they lead.
  if (out.renew_deadline >= out.lease_duration)
    throw KeyError{"leader_election.renew_deadline", "must be less than lease_duration"};
  if (out.retry_period >= out.renew_deadline)
    throw KeyError{"leader_election.retry_period", "must be less than renew_deadline"};
}

Config Parse(const YAML::Node& root) {
  Config c;
  if (!root || root.IsNull()) return c;
  CheckKeys(root, "",
            {"server", "kubernetes", "resource", "resource_tags", "provider", "usage",
             "leader_election", "capacity"});
  if (auto cap = root["capacity"]) ParseCapacity(cap, c.capacity);

  if (auto s = root["server"]) ParseServer(s, c.server);
  if (auto u = root["usage"]) {
    CheckKeys(u, "usage", {"kubelet_summary"});
    if (auto v = u["kubelet_summary"]) c.usage.kubelet_summary = Bool(v, "usage.kubelet_summary");
  }
  if (auto p = root["provider"]) ParseProvider(p, c.provider);
  if (auto l = root["leader_election"]) ParseLeaderElection(l, c.leader_election);
  if (auto k = root["kubernetes"]) {
    CheckKeys(
        k, "kubernetes",
        {"kubeconfig", "namespace", "in_cluster", "label_selector", "allow_connection_failure"});
    if (auto v = k["kubeconfig"]) c.kubernetes.kubeconfig = Scalar(v, "kubernetes.kubeconfig");
    if (auto v = k["namespace"]) c.kubernetes.namespace_ = Scalar(v, "kubernetes.namespace");
    if (auto v = k["in_cluster"]) c.kubernetes.in_cluster = Bool(v, "kubernetes.in_cluster");
    // Once configurable, but the Pod cache must select exactly the Pods the operator
    // labels: the seed's configs that spell out the default still load.
    if (auto v = k["label_selector"]) {
      if (Scalar(v, "kubernetes.label_selector") != kManagedSelector) {
        throw KeyError{"kubernetes.label_selector",
                       std::string("can only be ") + kManagedSelector +
                           ": the provider selects the Pods it labels; remove the key"};
      }
    }
    if (auto v = k["allow_connection_failure"]) {
      c.kubernetes.allow_connection_failure = Bool(v, "kubernetes.allow_connection_failure");
    }
    if (c.kubernetes.namespace_.empty())
      throw KeyError{"kubernetes.namespace", "must not be empty"};
  }
  if (auto r = root["resource"]) {
    CheckKeys(r, "resource", {"cpu", "memory", "gpu"});
    bool any_auto = false;
    auto cap = [&](const char* key, int64_t& out, auto parse) {
      auto v = r[key];
      if (!v) return;
      if (IsAuto(v)) {
        out = kUncapped;
        any_auto = true;
      } else {
        out = parse(v, std::string("resource.") + key);
      }
    };
    cap("cpu", c.resource.cpu_millicores, CpuMillicores);
    auto quantity = [](const YAML::Node& v, const std::string& key) {
      return NonNegative(ParseQuantity(Scalar(v, key)), key);
    };
    cap("memory", c.resource.memory_bytes, quantity);
    cap("gpu", c.resource.gpu, quantity);
    if (any_auto && c.capacity.source == Config::Capacity::Source::kConfig) {
      throw KeyError{"resource", "auto needs capacity.source nodes: with config there is no cap"};
    }
  }
  if (auto t = root["resource_tags"]) {
    if (!t.IsSequence()) throw KeyError{"resource_tags", "must be a list"};
    static const std::set<std::string> kTags = {"cpu", "gpu", "memory", "camera"};
    for (size_t i = 0; i < t.size(); ++i) {
      std::string key = "resource_tags[" + std::to_string(i) + "]";
      std::string tag = Scalar(t[i], key);
      if (!kTags.count(tag))
        throw KeyError{key, "unknown tag \"" + tag + "\" (cpu, gpu, memory, camera)"};
      c.resource_tags.push_back(tag);
    }
  }
  return c;
}

}  // namespace

std::optional<Millis> ParseDuration(const std::string& text) {
  if (text.empty()) return std::nullopt;
  bool bare = text.find_first_not_of("0123456789.") == std::string::npos;
  double total_ms = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t start = i;
    while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
      ++i;
    if (i == start) return std::nullopt;
    double value = 0;
    try {
      value = std::stod(text.substr(start, i - start));
    } catch (const std::exception&) {
      return std::nullopt;
    }
    size_t unit_start = i;
    while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
    std::string unit = text.substr(unit_start, i - unit_start);
    double scale = 0;
    if (unit == "ms")
      scale = 1;
    else if (unit == "s" || (bare && unit.empty()))
      scale = 1000;
    else if (unit == "m")
      scale = 60000;
    else if (unit == "h")
      scale = 3600000;
    else
      return std::nullopt;
    total_ms += value * scale;
    if (total_ms > 1e12) return std::nullopt;  // over 30 years: a typo
  }
  return Millis(static_cast<int64_t>(total_ms + 0.5));
}

ConfigResult ParseConfig(const std::string& yaml_text, const std::string& source) {
  try {
    return Parse(YAML::Load(yaml_text));
  } catch (const KeyError& e) {
    return ConfigError{source + ": " + e.key + ": " + e.why};
  } catch (const YAML::Exception& e) {
    return ConfigError{source + ": invalid YAML: " + e.what()};
  }
}

ConfigResult LoadConfigFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return ConfigError{path + ": cannot read the config file"};
  std::stringstream text;
  text << in.rdbuf();
  return ParseConfig(text.str(), path);
}

namespace {
std::string Cap(int64_t v) { return v == kUncapped ? "auto" : std::to_string(v); }
}  // namespace

std::string FormatConfig(const Config& c) {
  std::ostringstream out;
  auto b = [](bool v) { return v ? "true" : "false"; };
  std::string tags;
  for (const auto& t : c.resource_tags) tags += (tags.empty() ? "" : ",") + t;
  out << "kubernetes.allow_connection_failure=" << b(c.kubernetes.allow_connection_failure) << "\n"
      << "kubernetes.in_cluster=" << b(c.kubernetes.in_cluster) << "\n"
      << "kubernetes.kubeconfig=" << c.kubernetes.kubeconfig << "\n"
      << "kubernetes.namespace=" << c.kubernetes.namespace_ << "\n"
      << "resource.cpu=" << Cap(c.resource.cpu_millicores) << "\n"
      << "resource.gpu=" << Cap(c.resource.gpu) << "\n"
      << "resource.memory=" << Cap(c.resource.memory_bytes) << "\n"
      << "resource_tags=" << tags << "\n"
      << "server.port=" << c.server.port << "\n";
  out << "server.http_port=" << c.server.http_port << "\n"
      << "server.shutdown_grace=" << c.server.shutdown_grace.count() << "ms\n"
      << "server.http_read_timeout=" << c.server.http_read_timeout.count() << "ms\n"
      << "server.http_max_connections=" << c.server.http_max_connections << "\n"
      << "server.tls.cert_file=" << c.server.tls_cert_file << "\n"
      << "server.tls.client_ca_file=" << c.server.tls_client_ca_file << "\n"
      << "server.tls.key_file=" << c.server.tls_key_file << "\n";
  std::string langs, aliases;
  for (const auto& l : c.provider.languages)
    langs += (langs.empty() ? "" : ",") + ToString(l.language) + "=" + l.image;
  for (const auto& h : c.provider.host_aliases) {
    for (const auto& n : h.hostnames) aliases += (aliases.empty() ? "" : ",") + n + "=" + h.ip;
  }
  std::string selector;
  for (const auto& [k, v] : c.capacity.node_selector)
    selector += (selector.empty() ? "" : ",") + k + "=" + v;
  out << "capacity.node_selector=" << selector << "\n"
      << "capacity.source="
      << (c.capacity.source == Config::Capacity::Source::kConfig ? "config" : "nodes") << "\n";
  out << "provider.component_user="
      << (c.provider.component_user ? std::to_string(*c.provider.component_user) : "") << "\n"
      << "provider.deploy_timeout=" << c.provider.deploy_timeout.count() << "ms\n"
      << "provider.node_lost_grace=" << c.provider.node_lost_grace.count() << "ms\n"
      << "provider.schedule_timeout=" << c.provider.schedule_timeout.count() << "ms\n"
      << "provider.health_check_timeout=" << c.provider.health_check_timeout.count() << "ms\n"
      << "provider.host_aliases=" << aliases << "\n"
      << "provider.image_pull_timeout=" << c.provider.image_pull_timeout.count() << "ms\n"
      << "provider.languages=" << langs << "\n"
      << "provider.name=" << c.provider.name << "\n"
      << "provider.orphan_grace=" << c.provider.orphan_grace.count() << "ms\n"
      << "provider.orphan_policy="
      << (c.provider.orphan_policy == Config::Provider::OrphanPolicy::kKeep ? "keep" : "delete")
      << "\n"
      << "provider.takeover_floor=" << c.provider.takeover_floor.count() << "ms\n"
      << "provider.undeploy_timeout=" << c.provider.undeploy_timeout.count() << "ms\n";
  const auto& le = c.leader_election;
  out << "leader_election.enabled=" << b(le.enabled) << "\n"
      << "leader_election.lease_duration=" << le.lease_duration.count() << "ms\n"
      << "leader_election.lease_name=" << le.lease_name << "\n"
      << "leader_election.renew_deadline=" << le.renew_deadline.count() << "ms\n"
      << "leader_election.retry_period=" << le.retry_period.count() << "ms\n"
      << "usage.kubelet_summary=" << b(c.usage.kubelet_summary) << "\n";
  std::vector<std::string> lines;
  std::istringstream in(out.str());
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::sort(lines.begin(), lines.end());
  std::string sorted;
  for (const auto& l : lines) sorted += l + "\n";
  return sorted;
}

std::optional<ConfigError> ApplyOverrides(Config& config, const ConfigOverrides& o) {
  if (o.kubeconfig) config.kubernetes.kubeconfig = *o.kubeconfig;
  if (o.namespace_) {
    if (o.namespace_->empty()) return ConfigError{"--namespace: must not be empty"};
    config.kubernetes.namespace_ = *o.namespace_;
  }
  if (o.port) {
    if (*o.port < 1 || *o.port > 65535) return ConfigError{"--port: must be from 1 to 65535"};
    config.server.port = *o.port;
  }
  if (o.http_port) {
    if (*o.http_port < 0 || *o.http_port > 65535)
      return ConfigError{"--http-port: must be from 0 to 65535"};
    config.server.http_port = *o.http_port;
  }
  if (o.leader_elect) config.leader_election.enabled = *o.leader_elect;
  return std::nullopt;
}

}  // namespace iarnet
