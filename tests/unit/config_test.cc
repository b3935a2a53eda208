#include "grpc-gateway/config.h"
#include "grpc-gateway/options.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>

using iarnet::Config;
using iarnet::ConfigError;

namespace {
Config Ok(const std::string& yaml) {
  auto r = iarnet::ParseConfig(yaml, "test.yaml");
  if (auto* e = std::get_if<ConfigError>(&r)) FAIL(e->message);
  return std::get<Config>(r);
}
std::string Err(const std::string& yaml) {
  auto r = iarnet::ParseConfig(yaml, "test.yaml");
  auto* e = std::get_if<ConfigError>(&r);
  REQUIRE(e != nullptr);
  return e->message;
}
}  // namespace

TEST_CASE("the original provider's config.yaml keeps its meaning") {
  Config c = Ok(R"(
server:
  port: 50052
kubernetes:
  kubeconfig: ''
  namespace: iarnet
  in_cluster: true
  label_selector: iarnet.managed=true
  allow_connection_failure: true
resource:
  cpu: 4000
  memory: 4096Mi
  gpu: 2
resource_tags:
- camera
- cpu
- memory
)");
  CHECK(c.server.port == 50052);
  CHECK(c.kubernetes.kubeconfig.empty());
  CHECK(c.kubernetes.namespace_ == "iarnet");
  CHECK(c.kubernetes.in_cluster);
  CHECK(c.kubernetes.allow_connection_failure);
  CHECK(c.resource.cpu_millicores == 4000);
  CHECK(c.resource.memory_bytes == 4096LL << 20);
  CHECK(c.resource.gpu == 2);
  CHECK(c.resource_tags == std::vector<std::string>{"camera", "cpu", "memory"});
}

TEST_CASE("defaults when keys are absent") {
  Config c = Ok("");
  CHECK(c.server.port == 50052);
  CHECK(c.kubernetes.namespace_ == "default");
  CHECK_FALSE(c.kubernetes.in_cluster);
  CHECK(c.resource.cpu_millicores == 8000);
  CHECK(c.resource.memory_bytes == 8LL << 30);
  CHECK(c.resource.gpu == 0);
}

TEST_CASE("memory strings parse exactly") {
  CHECK(Ok("resource: {memory: 8Gi}").resource.memory_bytes == 8589934592);
  CHECK(Ok("resource: {memory: 8G}").resource.memory_bytes == 8000000000);
  CHECK(Ok("resource: {memory: 512Mi}").resource.memory_bytes == 536870912);
  CHECK(Ok("resource: {memory: 1.5Gi}").resource.memory_bytes == 1610612736);
  CHECK(Ok("resource: {memory: 1073741824}").resource.memory_bytes == 1073741824);
}

TEST_CASE("cpu is millicores or cores when written as a quantity with a suffix") {
  CHECK(Ok("resource: {cpu: 4000}").resource.cpu_millicores == 4000);
  CHECK(Ok("resource: {cpu: 500m}").resource.cpu_millicores == 500);
  CHECK(Ok("resource: {cpu: 1.5}").resource.cpu_millicores == 1500);
}

TEST_CASE("a bad config is an error that names the file and the key") {
  CHECK(Err("server: {port: 70000}") ==
        "test.yaml: server.port: must be a port number from 1 to 65535");
  CHECK(Err("server: {port: abc}").find("server.port") != std::string::npos);
  CHECK(
      Err("resource: {memory: 8GB}").find("test.yaml: resource.memory: invalid quantity \"8GB\"") ==
      0);
  CHECK(Err("resource: {memory: -1Gi}") == "test.yaml: resource.memory: must not be negative");
  CHECK(Err("resource: {cpu: -100}") == "test.yaml: resource.cpu: must not be negative");
  CHECK(Err("resource: {gpu: -1}") == "test.yaml: resource.gpu: must not be negative");
  CHECK(Err("resource: {cpus: 1}") == "test.yaml: resource.cpus: unknown key");
  CHECK(Err("serverr: {}") == "test.yaml: serverr: unknown key");
  CHECK(
      Err("kubernetes: {in_cluster: maybe}").find("kubernetes.in_cluster: must be true or false") !=
      std::string::npos);
  CHECK(Err("kubernetes: {namespace: ''}") == "test.yaml: kubernetes.namespace: must not be empty");
  CHECK(Err("resource_tags: cpu") == "test.yaml: resource_tags: must be a list");
  CHECK(Err("resource_tags: [cpu, disk]").find("resource_tags[1]: unknown tag \"disk\"") !=
        std::string::npos);
  CHECK(Err("server: [1, 2]") == "test.yaml: server: must be a mapping");
  CHECK(Err("server: {port: 1").find("test.yaml: invalid YAML") == 0);
  CHECK(Err("- a\n- b") == "test.yaml: (top level): must be a mapping");
}

TEST_CASE("config files: a missing file is named and a present one is read") {
  auto missing = iarnet::LoadConfigFile("/nonexistent/iarnet.yaml");
  REQUIRE(std::holds_alternative<ConfigError>(missing));
  CHECK(std::get<ConfigError>(missing).message ==
        "/nonexistent/iarnet.yaml: cannot read the config file");

  char path[] = "/tmp/iarnet-config-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  close(fd);
  std::ofstream(path) << "server:\n  port: 6000\n";
  auto loaded = iarnet::LoadConfigFile(path);
  std::remove(path);
  REQUIRE(std::holds_alternative<Config>(loaded));
  CHECK(std::get<Config>(loaded).server.port == 6000);
}

TEST_CASE("command-line overrides win over the file and are checked") {
  Config c = Ok("server: {port: 1000}\nkubernetes: {namespace: a}");
  iarnet::ConfigOverrides o;
  o.port = 2000;
  o.namespace_ = "b";
  o.kubeconfig = "/k";
  CHECK_FALSE(iarnet::ApplyOverrides(c, o).has_value());
  CHECK(c.server.port == 2000);
  CHECK(c.kubernetes.namespace_ == "b");
  CHECK(c.kubernetes.kubeconfig == "/k");
  o.port = 0;
  auto e = iarnet::ApplyOverrides(c, o);
  REQUIRE(e.has_value());
  CHECK(e->message == "--port: must be from 1 to 65535");
}

TEST_CASE("the effective configuration prints as sorted key=value lines") {
  Config c = Ok("resource: {cpu: 2000, memory: 1Gi, gpu: 1}\nresource_tags: [cpu, gpu]");
  CHECK(iarnet::FormatConfig(c) ==
        "capacity.node_selector=\n"
        "capacity.source=nodes\n"
        "kubernetes.allow_connection_failure=false\n"
        "kubernetes.in_cluster=false\n"
        "kubernetes.kubeconfig=\n"
        "kubernetes.namespace=default\n"
        "leader_election.enabled=false\n"
        "leader_election.lease_duration=15000ms\n"
        "leader_election.lease_name=iarnet-k8s-provider\n"
        "leader_election.renew_deadline=10000ms\n"
        "leader_election.retry_period=2000ms\n"
        "provider.component_user=\n"
        "provider.deploy_timeout=60000ms\n"
        "provider.health_check_timeout=90000ms\n"
        "provider.host_aliases=\n"
        "provider.image_pull_timeout=60000ms\n"
        "provider.languages=python=iarnet/component:python_3.11-latest\n"
        "provider.name=iarnet-provider\n"
        "provider.node_lost_grace=60000ms\n"
        "provider.orphan_grace=600000ms\n"
        "provider.orphan_policy=delete\n"
        "provider.schedule_timeout=30000ms\n"
        "provider.takeover_floor=15000ms\n"
        "provider.undeploy_timeout=10000ms\n"
        "resource.cpu=2000\n"
        "resource.gpu=1\n"
        "resource.memory=1073741824\n"
        "resource_tags=cpu,gpu\n"
        "server.http_max_connections=256\n"
        "server.http_port=8080\n"
        "server.http_read_timeout=10000ms\n"
        "server.port=50052\n"
        "server.shutdown_grace=10000ms\n"
        "server.tls.cert_file=\n"
        "server.tls.client_ca_file=\n"
        "server.tls.key_file=\n"
        "usage.kubelet_summary=true\n");
  CHECK(Ok("usage: {kubelet_summary: false}").usage.kubelet_summary == false);
  CHECK(Ok("provider: {image_pull_timeout: 2m}").provider.image_pull_timeout ==
        iarnet::Millis(120000));
  CHECK(Err("provider: {image_pull_timeout: -1s}").find("provider.image_pull_timeout") !=
        std::string::npos);
  CHECK(Err("usage: {kubelet_summary: maybe}").find("usage.kubelet_summary") != std::string::npos);
  CHECK(Err("usage: {interval: 1s}").find("usage.interval") != std::string::npos);
}

TEST_CASE("durations parse as Go writes them") {
  using iarnet::Millis;
  using iarnet::ParseDuration;
  CHECK(ParseDuration("10s") == Millis(10000));
  CHECK(ParseDuration("500ms") == Millis(500));
  CHECK(ParseDuration("1m30s") == Millis(90000));
  CHECK(ParseDuration("2h") == Millis(7200000));
  CHECK(ParseDuration("1.5s") == Millis(1500));
  CHECK(ParseDuration("90") == Millis(90000));  // bare number: seconds
  CHECK_FALSE(ParseDuration(""));
  CHECK_FALSE(ParseDuration("-1s"));
  CHECK_FALSE(ParseDuration("10 s"));
  CHECK_FALSE(ParseDuration("10d"));
  CHECK_FALSE(ParseDuration("s"));
  CHECK_FALSE(ParseDuration("99999999999h"));
}

TEST_CASE("the provider section: languages and host aliases and timeouts") {
  Config c = Ok(R"(
provider:
  name: edge-1
  languages: {python: reg/py:3.11, LANG_GO: reg/go:1}
  host_aliases:
  - {ip: 10.0.0.1, hostnames: [host.internal, cp.local]}
  deploy_timeout: 3s
  undeploy_timeout: 1500ms
  health_check_timeout: 2m
)");
  CHECK(c.provider.name == "edge-1");
  REQUIRE(c.provider.languages.size() == 2);
  CHECK(c.provider.languages[0] == iarnet::LanguageImage{iarnet::Language::kPython, "reg/py:3.11"});
  CHECK(c.provider.languages[1] == iarnet::LanguageImage{iarnet::Language::kGo, "reg/go:1"});
  REQUIRE(c.provider.host_aliases.size() == 1);
  CHECK(c.provider.host_aliases[0].ip == "10.0.0.1");
  CHECK(c.provider.host_aliases[0].hostnames ==
        std::vector<std::string>{"host.internal", "cp.local"});
  CHECK(c.provider.deploy_timeout == iarnet::Millis(3000));
  CHECK(c.provider.undeploy_timeout == iarnet::Millis(1500));
  CHECK(c.provider.health_check_timeout == iarnet::Millis(120000));
  // The default maps python to the component image the control plane expects.
  Config d = Ok("");
  REQUIRE(d.provider.languages.size() == 1);
  CHECK(d.provider.languages[0].image == "iarnet/component:python_3.11-latest");
}

TEST_CASE("bad provider and server and leader election keys are named") {
  CHECK(Err("provider: {languages: {cobol: x}}") ==
        "test.yaml: provider.languages.cobol: unknown language (json, go, python, unikernel)");
  CHECK(Err("provider: {languages: {python: ''}}") ==
        "test.yaml: provider.languages.python: the image must not be empty");
  CHECK(Err("provider: {host_aliases: [{ip: nope, hostnames: [a]}]}") ==
        "test.yaml: provider.host_aliases[0].ip: must be an IP address");
  CHECK(Err("provider: {host_aliases: [{ip: 10.0.0.1, hostnames: []}]}") ==
        "test.yaml: provider.host_aliases[0].hostnames: must be a non-empty list");
  CHECK(Err("provider: {host_aliases: [{ip: 10.0.0.1, hostnames: ['a b']}]}") ==
        "test.yaml: provider.host_aliases[0].hostnames[0]: must be a host name");
  CHECK(Err("provider: {deploy_timeout: 0s}") ==
        "test.yaml: provider.deploy_timeout: must be more than 0");
  CHECK(Err("provider: {deploy_timeout: soon}") ==
        "test.yaml: provider.deploy_timeout: must be a duration such as 10s, 500ms or 1m30s");
  CHECK(Err("provider: {name: Bad_Name}") ==
        "test.yaml: provider.name: must be a DNS label (lower case, digits, '-')");
  CHECK(Err("server: {tls: {cert_file: /c}}") ==
        "test.yaml: server.tls: cert_file and key_file go together");
  CHECK(Err("server: {tls: {client_ca_file: /ca}}") ==
        "test.yaml: server.tls.client_ca_file: mTLS needs cert_file and key_file too");
  CHECK(Err("server: {http_port: 70000}") ==
        "test.yaml: server.http_port: must be a port number from 0 to 65535");
  CHECK(Err("leader_election: {lease_duration: 5s, renew_deadline: 5s}") ==
        "test.yaml: leader_election.renew_deadline: must be less than lease_duration");
  CHECK(Err("leader_election: {renew_deadline: 2s, retry_period: 2s}") ==
        "test.yaml: leader_election.retry_period: must be less than renew_deadline");
  CHECK(Err("leader_election: {enabled: maybe}") ==
        "test.yaml: leader_election.enabled: must be true or false, got \"maybe\"");
}

TEST_CASE("leader election and the http port from flags") {
  Config c;
  iarnet::ConfigOverrides o;
  o.leader_elect = true;
  o.http_port = 0;
  REQUIRE_FALSE(iarnet::ApplyOverrides(c, o));
  CHECK(c.leader_election.enabled);
  CHECK(c.server.http_port == 0);
  o.http_port = -1;
  CHECK(iarnet::ApplyOverrides(c, o)->message == "--http-port: must be from 0 to 65535");
}

TEST_CASE("the REST gateway's client limits are read, and bad ones name their key") {
  Config c = Ok("server: {http_read_timeout: 2s, http_max_connections: 8}");
  CHECK(c.server.http_read_timeout == iarnet::Millis(2000));
  CHECK(c.server.http_max_connections == 8);
  CHECK(Err("server: {http_read_timeout: 0s}").find("server.http_read_timeout") !=
        std::string::npos);
  CHECK(Err("server: {http_max_connections: 0}").find("server.http_max_connections") !=
        std::string::npos);
  CHECK(Err("server: {http_max_connections: many}").find("server.http_max_connections") !=
        std::string::npos);
}

TEST_CASE("a language mapped to an image that is not an image reference is refused") {
  std::string e = Err("provider: {languages: {python: \"img with spaces\"}}");
  CHECK(e.find("provider.languages.python") != std::string::npos);
  CHECK(e.find("not a valid image reference") != std::string::npos);
  CHECK(Ok("provider: {languages: {python: \"registry.local:5000/team/py@sha256:"
           "0123456789abcdef0123456789abcdef\"}}")
            .provider.languages.size() == 1);
}

TEST_CASE("kubernetes.label_selector loads only with its old default") {
  // The Pod cache and the usage query select the Pods the operator labels; another
  // selector would hide the provider's own Pods from it.
  Ok("kubernetes: {label_selector: iarnet.managed=true}");
  CHECK(Err("kubernetes: {label_selector: app=web}") ==
        "test.yaml: kubernetes.label_selector: can only be iarnet.managed=true: the provider "
        "selects the Pods it labels; remove the key");
}

TEST_CASE("provider.orphan_policy and orphan_grace reach the controller's orphan rule") {
  using namespace std::chrono_literals;
  // Default: orphans are deleted 10 minutes after their session ended.
  CHECK(iarnet::ControllerOptionsFrom(Ok("")).orphan_grace == 10min);
  CHECK(iarnet::ControllerOptionsFrom(Ok("provider: {orphan_grace: 30s}")).orphan_grace == 30s);
  // keep: the rule is off (a grace of 0), whatever the grace says.
  CHECK(iarnet::ControllerOptionsFrom(Ok("provider: {orphan_policy: keep, orphan_grace: 30s}"))
            .orphan_grace == 0ms);
  // An interrupted Deploy's workload goes once that Deploy must have ended.
  CHECK(iarnet::ControllerOptionsFrom(Ok("provider: {deploy_timeout: 5s}"))
            .interrupted_deploy_after == 15s);
  CHECK(Err("provider: {orphan_policy: sometimes}") ==
        "test.yaml: provider.orphan_policy: must be delete or keep, got \"sometimes\"");
  CHECK(Err("provider: {orphan_grace: 0s}") ==
        "test.yaml: provider.orphan_grace: must be more than 0");
}

TEST_CASE(
    "capacity.source, the node selector and resource auto reach the caches and the controller") {
  using namespace std::chrono_literals;
  // Default: the node view is on, without a selector; the configured numbers are a cap.
  auto caches = iarnet::CachesOptionsFrom(Ok(""));
  REQUIRE(caches.node_view.has_value());
  CHECK(caches.node_view->node_selector.empty());
  CHECK(caches.provider_spec.capacity == iarnet::Resources{8000, int64_t{8} << 30, 0});
  // config: no node view at all (no cluster-wide RBAC needed).
  CHECK(!iarnet::CachesOptionsFrom(Ok("capacity: {source: config}")).node_view.has_value());
  // The selector selects nodes for the view and lands in every component Pod.
  Config sel = Ok("capacity: {node_selector: {pool: gpu, example.com/zone: a}}");
  std::map<std::string, std::string> want = {{"pool", "gpu"}, {"example.com/zone", "a"}};
  CHECK(iarnet::CachesOptionsFrom(sel).node_view->node_selector == want);
  CHECK(iarnet::ControllerOptionsFrom(sel).node_selector == want);
  // auto: no cap in the IarnetProvider's spec.
  auto spec = iarnet::ProviderSpecFrom(Ok("resource: {cpu: auto, memory: 4Gi, gpu: auto}"));
  CHECK(spec.capacity.cpu == iarnet::kUncapped);
  CHECK(spec.capacity.memory == int64_t{4} << 30);
  CHECK(spec.capacity.gpu == iarnet::kUncapped);
  CHECK(iarnet::ToJson(spec)["capacity"]["cpu"] == "auto");
  CHECK(Err("capacity: {source: config}\nresource: {cpu: auto}") ==
        "test.yaml: resource: auto needs capacity.source nodes: with config there is no cap");
  CHECK(Err("capacity: {source: sometimes}") ==
        "test.yaml: capacity.source: must be nodes or config, got \"sometimes\"");
  CHECK(Err("capacity: {node_selector: {\"bad key!\": x}}").find("is not a label key") !=
        std::string::npos);
  CHECK(Err("capacity: {node_selector: {pool: \"no spaces\"}}").find("is not a label value") !=
        std::string::npos);
  CHECK(Err("capacity: {nodes: 3}") == "test.yaml: capacity.nodes: unknown key");
  // The timeouts reach the controller's rules.
  auto c =
      iarnet::ControllerOptionsFrom(Ok("provider: {schedule_timeout: 5s, node_lost_grace: 2m}"));
  CHECK(c.schedule_timeout == 5s);
  CHECK(c.node_lost_grace == 2min);
  CHECK(iarnet::ControllerOptionsFrom(Ok("")).schedule_timeout == 30s);
  CHECK(iarnet::ControllerOptionsFrom(Ok("")).node_lost_grace == 60s);
  CHECK(Err("provider: {schedule_timeout: 0s}").find("provider.schedule_timeout") !=
        std::string::npos);
}

TEST_CASE("config: provider.component_user reaches the controller, and only a non-root id") {
  CHECK(iarnet::ControllerOptionsFrom(Ok("provider: {component_user: 65534}")).component_user ==
        65534);
  CHECK_FALSE(iarnet::ControllerOptionsFrom(Ok("")).component_user);
  const std::string why =
      "test.yaml: provider.component_user: must be a user id from 1 to 4294967294";
  CHECK(Err("provider: {component_user: 0}") == why);  // root
  CHECK(Err("provider: {component_user: -5}") == why);
  CHECK(Err("provider: {component_user: nobody}") == why);
  CHECK(Err("provider: {component_user: 4294967295}") == why);
  CHECK(Err("provider: {component_user: [1]}") == why);
}
