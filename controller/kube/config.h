// Where the API server is and how to authenticate: from kubeconfig files, as kubectl
// reads them, or from the in-cluster service account.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace kube {

struct ClusterConfig {
  std::string server;  // https://host:port, no trailing slash
  std::string tls_server_name;
  bool insecure_skip_tls_verify = false;
  std::string ca_pem;  // empty: the system's trusted roots
  std::string client_cert_pem;
  std::string client_key_pem;
  std::string token;       // static bearer token
  std::string token_file;  // bearer token re-read when the file changes (wins over token)
  std::string namespace_ = "default";
  std::string source;  // where this came from, for messages
};

// Reads a whole file; throws kube::Error(kConfig) naming the file when it cannot.
using FileReader = std::function<std::string(const std::string& path)>;
std::string ReadFileOrThrow(const std::string& path);

// One kubeconfig file: its path (for messages and relative paths) and its text.
struct KubeconfigFile {
  std::string path;
  std::string text;
};

// Merges kubeconfig files as kubectl does (the first file to define a cluster, user or
// context by name wins; the first non-empty current-context wins) and resolves the
// context `context` (empty: current-context). Paths in a file are relative to its
// directory; *-data fields win over the matching file fields, tokenFile over token.
// Errors (kConfig) name the file and the field.
ClusterConfig ParseKubeconfigs(const std::vector<KubeconfigFile>& files,
                               const std::string& context = "",
                               const FileReader& read = ReadFileOrThrow);

// Loads an explicit kubeconfig path (must exist), else $KUBECONFIG (a ':'-separated
// list; missing entries are skipped), else ~/.kube/config.
ClusterConfig LoadKubeconfig(const std::string& explicit_path = "",
                             const std::string& context = "");

// The in-cluster configuration: KUBERNETES_SERVICE_HOST/PORT and the service account's
// token, ca.crt and namespace under `account_dir`.
ClusterConfig LoadInCluster(
    const std::string& account_dir = "/var/run/secrets/kubernetes.io/serviceaccount");

}  // namespace kube
