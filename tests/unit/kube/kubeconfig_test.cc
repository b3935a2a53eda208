#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "kube/base64.h"
#include "kube/config.h"
#include "kube/error.h"

using kube::ClusterConfig;
using kube::KubeconfigFile;
using kube::ParseKubeconfigs;

namespace {

// Reads from an in-memory file system, so every path the parser resolves is visible.
kube::FileReader Files(std::map<std::string, std::string> files) {
  return [files](const std::string& path) {
    auto it = files.find(path);
    if (it == files.end()) throw kube::Error(kube::ErrorKind::kConfig, path + ": cannot read file");
    return it->second;
  };
}

std::string ErrorOf(const std::vector<KubeconfigFile>& files, const std::string& context = "",
                    kube::FileReader read = Files({})) {
  try {
    ParseKubeconfigs(files, context, read);
  } catch (const kube::Error& e) {
    CHECK(e.kind() == kube::ErrorKind::kConfig);
    return e.what();
  }
  FAIL("no error");
  return "";
}

const char* kFull = R"(
apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: c1
  cluster:
    server: https://10.0.0.1:6443/
    certificate-authority: ca.crt
    tls-server-name: api.internal
- name: c2
  cluster:
    server: https://[::1]:8443
    insecure-skip-tls-verify: true
users:
- name: u1
  user:
    client-certificate: certs/u1.crt
    client-key: /abs/u1.key
- name: u2
  user:
    token: static-token
    tokenFile: tok
contexts:
- name: dev
  context: {cluster: c1, user: u1, namespace: team}
- name: ops
  context: {cluster: c2, user: u2}
)";

}  // namespace

TEST_CASE("kubeconfig: current-context and files relative to the kubeconfig and namespace") {
  auto read = Files({{"/cfg/ca.crt", "CA"}, {"/cfg/certs/u1.crt", "CERT"}, {"/abs/u1.key", "KEY"}});
  ClusterConfig c = ParseKubeconfigs({{"/cfg/config", kFull}}, "", read);
  CHECK(c.server == "https://10.0.0.1:6443");
  CHECK(c.ca_pem == "CA");
  CHECK(c.tls_server_name == "api.internal");
  CHECK_FALSE(c.insecure_skip_tls_verify);
  CHECK(c.client_cert_pem == "CERT");
  CHECK(c.client_key_pem == "KEY");
  CHECK(c.token.empty());
  CHECK(c.namespace_ == "team");
  CHECK(c.source == "kubeconfig /cfg/config (context dev)");
}

TEST_CASE("kubeconfig: an explicit context with insecure and token and tokenFile") {
  auto read = Files({{"/cfg/tok", "FILETOKEN"}});
  ClusterConfig c = ParseKubeconfigs({{"/cfg/config", kFull}}, "ops", read);
  CHECK(c.server == "https://[::1]:8443");
  CHECK(c.insecure_skip_tls_verify);
  CHECK(c.ca_pem.empty());
  CHECK(c.token == "static-token");
  CHECK(c.token_file == "/cfg/tok");
  CHECK(c.namespace_ == "default");
}

TEST_CASE("kubeconfig: *-data fields are base64 and win over file fields") {
  std::string yaml = R"(
current-context: x
clusters: [{name: c, cluster: {server: "https://h:1", certificate-authority: nofile,
  certificate-authority-data: )" +
                     kube::Base64Encode("CADATA") + R"(}}]
users: [{name: u, user: {client-certificate-data: )" +
                     kube::Base64Encode("C") + R"(, client-key-data: )" + kube::Base64Encode("K") +
                     R"(}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
)";
  ClusterConfig c = ParseKubeconfigs({{"/k", yaml}});
  CHECK(c.ca_pem == "CADATA");
  CHECK(c.client_cert_pem == "C");
  CHECK(c.client_key_pem == "K");
}

TEST_CASE("kubeconfig: several files merge as kubectl merges them") {
  const char* first = R"(
current-context: a
clusters: [{name: shared, cluster: {server: "https://first:1"}}]
users: [{name: u, user: {token: first-token}}]
contexts: [{name: a, context: {cluster: shared, user: u}}]
)";
  const char* second = R"(
current-context: b
clusters:
- {name: shared, cluster: {server: "https://second:2"}}
- {name: only-second, cluster: {server: "https://only:3"}}
users: [{name: u, user: {token: second-token}}]
contexts:
- {name: a, context: {cluster: only-second, user: u}}
- {name: b, context: {cluster: only-second, user: u, namespace: nb}}
)";
  // The first file's current-context and the first definition of each name win.
  ClusterConfig c = ParseKubeconfigs({{"/1", first}, {"/2", second}});
  CHECK(c.server == "https://first:1");
  CHECK(c.token == "first-token");
  // Entries only the second file has are still found.
  ClusterConfig b = ParseKubeconfigs({{"/1", first}, {"/2", second}}, "b");
  CHECK(b.server == "https://only:3");
  CHECK(b.namespace_ == "nb");
  // An empty file contributes nothing and the rest still works.
  CHECK(ParseKubeconfigs({{"/0", ""}, {"/1", first}}).server == "https://first:1");
}

TEST_CASE("kubeconfig: errors name the file and the field") {
  CHECK(ErrorOf({{"/k", "clusters: [}"}}).rfind("/k: invalid YAML", 0) == 0);
  CHECK(ErrorOf({{"/k", "- 1"}}) == "/k: not a kubeconfig (expected a mapping)");
  CHECK(ErrorOf({{"/k", "clusters: []"}}) ==
        "/k: current-context is not set and no context was given");
  CHECK(ErrorOf({{"/k", kFull}}, "nope") == "/k: context \"nope\" not found");
  CHECK(ErrorOf({{"/k", "current-context: x\ncontexts: [{name: x, context: {cluster: c}}]"}}) ==
        "/k: contexts[x].context.cluster: cluster \"c\" not found");
  CHECK(ErrorOf({{"/k", "current-context: x\ncontexts: [{name: x, context: {user: u}}]"}}) ==
        "/k: contexts[x].context.cluster is missing");
  CHECK(ErrorOf({{"/k", R"(
current-context: x
clusters: [{name: c, cluster: {}}]
contexts: [{name: x, context: {cluster: c}}])"}}) == "/k: clusters[c].cluster.server is missing");
  CHECK(ErrorOf({{"/k", R"(
current-context: x
clusters: [{name: c, cluster: {server: "h:1"}}]
contexts: [{name: x, context: {cluster: c}}])"}})
            .find("clusters[c].cluster.server must be an http(s):// URL") != std::string::npos);
  CHECK(ErrorOf({{"/k", R"(
current-context: x
clusters: [{name: c, cluster: {server: "https://h", certificate-authority: ca.pem}}]
contexts: [{name: x, context: {cluster: c}}])"}}) == "/ca.pem: cannot read file");
  CHECK(ErrorOf({{"/k", R"(
current-context: x
clusters: [{name: c, cluster: {server: "https://h", certificate-authority-data: "!!notbase64"}}]
contexts: [{name: x, context: {cluster: c}}])"}}) ==
        "/k: clusters[c].cluster.certificate-authority-data is not valid base64");
  CHECK(ErrorOf({{"/k", R"(
current-context: x
clusters: [{name: c, cluster: {server: "https://h", insecure-skip-tls-verify: yes-please}}]
contexts: [{name: x, context: {cluster: c}}])"}}) ==
        "/k: clusters[c].cluster.insecure-skip-tls-verify must be true or false");
  CHECK(ErrorOf({{"/k", R"(
current-context: x
clusters: [{name: c, cluster: {server: "https://h"}}]
users: [{name: u, user: {exec: {command: aws}}}]
contexts: [{name: x, context: {cluster: c, user: u}}])"}})
            .rfind("/k: users[u].user.exec is not supported", 0) == 0);
  CHECK(ErrorOf({{"/k", R"(
current-context: x
clusters: [{name: c, cluster: {server: "https://h"}}]
users: [{name: u, user: {client-certificate-data: Qw==}}]
contexts: [{name: x, context: {cluster: c, user: u}}])"}}) ==
        "/k: users[u].user: client-certificate and client-key must be given together");
  CHECK(ErrorOf({{"/k", R"(
current-context: x
clusters: [{name: c, cluster: {server: "https://h"}}]
users: [{name: u, user: {tokenFile: /missing/token}}]
contexts: [{name: x, context: {cluster: c, user: u}}])"}}) == "/missing/token: cannot read file");
  CHECK(ErrorOf({{"/k", R"(
current-context: x
clusters: [{name: c, cluster: {server: "https://h"}}]
contexts: [{name: x, context: {cluster: c, user: ghost}}])"}}) ==
        "/k: contexts[x].context.user: user \"ghost\" not found");
  CHECK(ErrorOf({}) == "no kubeconfig file found");
}

TEST_CASE("kubeconfig: KUBECONFIG lists several files and skips missing ones") {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("kubeconfig-test-" + std::to_string(getpid()));
  fs::create_directories(dir);
  std::ofstream(dir / "a") << "current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\n";
  std::ofstream(dir / "b") << "clusters: [{name: c, cluster: {server: \"https://b:1\"}}]\n";
  std::string list =
      (dir / "a").string() + ":" + (dir / "missing").string() + ":" + (dir / "b").string();
  setenv("KUBECONFIG", list.c_str(), 1);
  CHECK(kube::LoadKubeconfig().server == "https://b:1");
  setenv("KUBECONFIG", (dir / "missing").c_str(), 1);
  CHECK_THROWS_WITH(kube::LoadKubeconfig(), Catch::Contains("no such file"));
  unsetenv("KUBECONFIG");
  CHECK_THROWS_WITH(kube::LoadKubeconfig((dir / "missing").string()),
                    Catch::Contains("cannot read file"));
  fs::remove_all(dir);
}

TEST_CASE("in-cluster config from the service account directory") {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("sa-test-" + std::to_string(getpid()));
  fs::create_directories(dir);
  unsetenv("KUBERNETES_SERVICE_HOST");
  CHECK_THROWS_WITH(
      kube::LoadInCluster(dir.string()),
      Catch::Contains("KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set"));
  setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
  setenv("KUBERNETES_SERVICE_PORT", "443", 1);
  CHECK_THROWS_WITH(kube::LoadInCluster(dir.string()), Catch::Contains("token: cannot read file"));
  std::ofstream(dir / "token") << "tok\n";
  std::ofstream(dir / "ca.crt") << "CA";
  std::ofstream(dir / "namespace") << "iarnet\n";
  ClusterConfig c = kube::LoadInCluster(dir.string());
  CHECK(c.server == "https://10.96.0.1:443");
  CHECK(c.token_file == (dir / "token").string());
  CHECK(c.ca_pem == "CA");
  CHECK(c.namespace_ == "iarnet");
  setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
  CHECK(kube::LoadInCluster(dir.string()).server == "https://[fd00::1]:443");
  unsetenv("KUBERNETES_SERVICE_HOST");
  unsetenv("KUBERNETES_SERVICE_PORT");
  fs::remove_all(dir);
}

TEST_CASE("base64 round trip and rejection") {
  for (const std::string& s :
       std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)}) {
    CHECK(kube::Base64Decode(kube::Base64Encode(s)) == s);
  }
  CHECK(kube::Base64Decode("aGVs\nbG8=") == std::string("hello"));
  CHECK_FALSE(kube::Base64Decode("a$b=").has_value());
}
