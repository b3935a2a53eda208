#include "config.h"

#include <yaml-cpp/yaml.h>

#include <fstream>
#include <set>
#include <sstream>

#include "quantity.h"

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

Config Parse(const YAML::Node& root) {
  Config c;
  if (!root || root.IsNull()) return c;
  CheckKeys(root, "", {"server", "kubernetes", "resource", "resource_tags"});

  if (auto s = root["server"]) {
    CheckKeys(s, "server", {"port"});
    if (auto p = s["port"]) {
      int port = 0;
      if (!p.IsScalar() || !YAML::convert<int>::decode(p, port) || port < 1 || port > 65535) {
        throw KeyError{"server.port", "must be a port number from 1 to 65535"};
      }
      c.server.port = port;
    }
  }
  if (auto k = root["kubernetes"]) {
    CheckKeys(
        k, "kubernetes",
        {"kubeconfig", "namespace", "in_cluster", "label_selector", "allow_connection_failure"});
    if (auto v = k["kubeconfig"]) c.kubernetes.kubeconfig = Scalar(v, "kubernetes.kubeconfig");
    if (auto v = k["namespace"]) c.kubernetes.namespace_ = Scalar(v, "kubernetes.namespace");
    if (auto v = k["in_cluster"]) c.kubernetes.in_cluster = Bool(v, "kubernetes.in_cluster");
    if (auto v = k["label_selector"]) {
      c.kubernetes.label_selector = Scalar(v, "kubernetes.label_selector");
    }
    if (auto v = k["allow_connection_failure"]) {
      c.kubernetes.allow_connection_failure = Bool(v, "kubernetes.allow_connection_failure");
    }
    if (c.kubernetes.namespace_.empty())
      throw KeyError{"kubernetes.namespace", "must not be empty"};
  }
  if (auto r = root["resource"]) {
    CheckKeys(r, "resource", {"cpu", "memory", "gpu"});
    if (auto v = r["cpu"]) c.resource.cpu_millicores = CpuMillicores(v, "resource.cpu");
    if (auto v = r["memory"]) {
      c.resource.memory_bytes =
          NonNegative(ParseQuantity(Scalar(v, "resource.memory")), "resource.memory");
    }
    if (auto v = r["gpu"]) {
      c.resource.gpu = NonNegative(ParseQuantity(Scalar(v, "resource.gpu")), "resource.gpu");
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

std::string FormatConfig(const Config& c) {
  std::ostringstream out;
  auto b = [](bool v) { return v ? "true" : "false"; };
  std::string tags;
  for (const auto& t : c.resource_tags) tags += (tags.empty() ? "" : ",") + t;
  out << "kubernetes.allow_connection_failure=" << b(c.kubernetes.allow_connection_failure) << "\n"
      << "kubernetes.in_cluster=" << b(c.kubernetes.in_cluster) << "\n"
      << "kubernetes.kubeconfig=" << c.kubernetes.kubeconfig << "\n"
      << "kubernetes.label_selector=" << c.kubernetes.label_selector << "\n"
      << "kubernetes.namespace=" << c.kubernetes.namespace_ << "\n"
      << "resource.cpu=" << c.resource.cpu_millicores << "\n"
      << "resource.gpu=" << c.resource.gpu << "\n"
      << "resource.memory=" << c.resource.memory_bytes << "\n"
      << "resource_tags=" << tags << "\n"
      << "server.port=" << c.server.port << "\n";
  return out.str();
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
  return std::nullopt;
}

}  // namespace iarnet
