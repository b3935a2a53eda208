#include "kube/config.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "kube/base64.h"
#include "kube/error.h"

namespace kube {
namespace {

namespace fs = std::filesystem;

Error ConfigError(const std::string& where, const std::string& what) {
  return Error(ErrorKind::kConfig, where + ": " + what);
}

// A named entry (cluster, user, context) and the file it came from.
struct Entry {
  YAML::Node node;
  std::string file;
};

std::string Str(const Entry& e, const std::string& field, const std::string& where) {
  YAML::Node n = e.node[field];
  if (!n || n.IsNull()) return "";
  if (!n.IsScalar()) throw ConfigError(e.file, where + "." + field + " must be a string");
  return n.Scalar();
}

bool Bool(const Entry& e, const std::string& field, const std::string& where) {
  YAML::Node n = e.node[field];
  if (!n || n.IsNull()) return false;
  bool value = false;
  if (!n.IsScalar() || !YAML::convert<bool>::decode(n, value)) {
    throw ConfigError(e.file, where + "." + field + " must be true or false");
  }
  return value;
}

std::string Resolve(const std::string& path, const std::string& file) {
  if (path.empty() || fs::path(path).is_absolute()) return path;
  return (fs::path(file).parent_path() / path).lexically_normal().string();
}

// Indexes the `section` list of every file by name; the first definition wins.
std::map<std::string, Entry> Collect(const std::vector<std::pair<YAML::Node, std::string>>& docs,
                                     const std::string& section, const std::string& inner) {
  std::map<std::string, Entry> out;
  for (const auto& [doc, file] : docs) {
    YAML::Node list = doc[section];
    if (!list || list.IsNull()) continue;
    if (!list.IsSequence()) throw ConfigError(file, section + " must be a list");
    for (size_t i = 0; i < list.size(); ++i) {
      std::string where = section + "[" + std::to_string(i) + "]";
      YAML::Node item = list[i];
      if (!item.IsMap() || !item["name"] || !item["name"].IsScalar()) {
        throw ConfigError(file, where + ".name is missing");
      }
      YAML::Node body = item[inner];
      if (body && !body.IsNull() && !body.IsMap()) {
        throw ConfigError(file, where + "." + inner + " must be a mapping");
      }
      out.emplace(item["name"].Scalar(),
                  Entry{body ? body : YAML::Node(YAML::NodeType::Map), file});
    }
  }
  return out;
}

// PEM from `<field>-data` (base64) or `<field>` (a file path).
std::string Pem(const Entry& e, const std::string& field, const std::string& where,
                const FileReader& read) {
  std::string data = Str(e, field + "-data", where);
  if (!data.empty()) {
    auto decoded = Base64Decode(data);
    if (!decoded) throw ConfigError(e.file, where + "." + field + "-data is not valid base64");
    return *decoded;
  }
  std::string path = Str(e, field, where);
  if (path.empty()) return "";
  return read(Resolve(path, e.file));
}

}  // namespace

std::string ReadFileOrThrow(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorKind::kConfig, path + ": cannot read file");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

ClusterConfig ParseKubeconfigs(const std::vector<KubeconfigFile>& files, const std::string& context,
                               const FileReader& read) {
  if (files.empty()) throw Error(ErrorKind::kConfig, "no kubeconfig file found");
  std::vector<std::pair<YAML::Node, std::string>> docs;
  std::string current;
  for (const auto& f : files) {
    YAML::Node doc;
    try {
      doc = YAML::Load(f.text);
    } catch (const YAML::Exception& e) {
      throw ConfigError(f.path, std::string("invalid YAML: ") + e.what());
    }
    if (doc.IsNull()) continue;  // an empty file contributes nothing
    if (!doc.IsMap()) throw ConfigError(f.path, "not a kubeconfig (expected a mapping)");
    if (current.empty() && doc["current-context"] && doc["current-context"].IsScalar()) {
      current = doc["current-context"].Scalar();
    }
    docs.emplace_back(doc, f.path);
  }
  const std::string names = files.size() == 1 ? files[0].path : "kubeconfig files";
  std::string name = context.empty() ? current : context;
  if (name.empty()) throw ConfigError(names, "current-context is not set and no context was given");

  auto contexts = Collect(docs, "contexts", "context");
  auto clusters = Collect(docs, "clusters", "cluster");
  auto users = Collect(docs, "users", "user");

  auto ctx = contexts.find(name);
  if (ctx == contexts.end()) throw ConfigError(names, "context \"" + name + "\" not found");
  const std::string ctx_where = "contexts[" + name + "].context";
  std::string cluster_name = Str(ctx->second, "cluster", ctx_where);
  std::string user_name = Str(ctx->second, "user", ctx_where);
  if (cluster_name.empty()) throw ConfigError(ctx->second.file, ctx_where + ".cluster is missing");

  auto cl = clusters.find(cluster_name);
  if (cl == clusters.end()) {
    throw ConfigError(ctx->second.file,
                      ctx_where + ".cluster: cluster \"" + cluster_name + "\" not found");
  }
  const std::string cl_where = "clusters[" + cluster_name + "].cluster";

  ClusterConfig out;
  out.server = Str(cl->second, "server", cl_where);
  if (out.server.empty()) throw ConfigError(cl->second.file, cl_where + ".server is missing");
  if (out.server.rfind("https://", 0) != 0 && out.server.rfind("http://", 0) != 0) {
    throw ConfigError(cl->second.file,
                      cl_where + ".server must be an http(s):// URL, got \"" + out.server + "\"");
  }
  while (!out.server.empty() && out.server.back() == '/') out.server.pop_back();
  out.tls_server_name = Str(cl->second, "tls-server-name", cl_where);
  out.insecure_skip_tls_verify = Bool(cl->second, "insecure-skip-tls-verify", cl_where);
  out.ca_pem = Pem(cl->second, "certificate-authority", cl_where, read);
  if (out.insecure_skip_tls_verify && !out.ca_pem.empty()) {
    throw ConfigError(
        cl->second.file,
        cl_where + ": certificate-authority and insecure-skip-tls-verify cannot both be set");
  }

  if (!user_name.empty()) {
    auto u = users.find(user_name);
    if (u == users.end()) {
      throw ConfigError(ctx->second.file,
                        ctx_where + ".user: user \"" + user_name + "\" not found");
    }
    const std::string u_where = "users[" + user_name + "].user";
    for (const char* unsupported : {"exec", "auth-provider"}) {
      if (u->second.node[unsupported]) {
        throw ConfigError(
            u->second.file,
            u_where + "." + unsupported + " is not supported; use a token or client certificate");
      }
    }
    out.client_cert_pem = Pem(u->second, "client-certificate", u_where, read);
    out.client_key_pem = Pem(u->second, "client-key", u_where, read);
    if (out.client_cert_pem.empty() != out.client_key_pem.empty()) {
      throw ConfigError(u->second.file,
                        u_where + ": client-certificate and client-key must be given together");
    }
    out.token = Str(u->second, "token", u_where);
    out.token_file = Resolve(Str(u->second, "tokenFile", u_where), u->second.file);
    if (!out.token_file.empty()) read(out.token_file);  // fail now, not at the first request
  }
  out.namespace_ = Str(ctx->second, "namespace", ctx_where);
  if (out.namespace_.empty()) out.namespace_ = "default";
  out.source = "kubeconfig " + ctx->second.file + " (context " + name + ")";
  return out;
}

ClusterConfig LoadKubeconfig(const std::string& explicit_path, const std::string& context) {
  std::vector<KubeconfigFile> files;
  if (!explicit_path.empty()) {
    files.push_back({explicit_path, ReadFileOrThrow(explicit_path)});
  } else if (const char* env = std::getenv("KUBECONFIG"); env && *env) {
    std::stringstream list(env);
    std::string path;
    while (std::getline(list, path, ':')) {
      if (path.empty() || !fs::exists(path)) continue;
      files.push_back({path, ReadFileOrThrow(path)});
    }
    if (files.empty())
      throw Error(ErrorKind::kConfig, std::string("KUBECONFIG=") + env + ": no such file");
  } else {
    const char* home = std::getenv("HOME");
    std::string path = std::string(home ? home : "") + "/.kube/config";
    files.push_back({path, ReadFileOrThrow(path)});
  }
  return ParseKubeconfigs(files, context);
}

ClusterConfig LoadInCluster(const std::string& dir) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (!host || !*host || !port || !*port) {
    throw Error(
        ErrorKind::kConfig,
        "in-cluster config: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set "
        "(is this running in a Pod?)");
  }
  std::string h = host;
  if (h.find(':') != std::string::npos) h = "[" + h + "]";  // IPv6 literal
  ClusterConfig out;
  out.server = "https://" + h + ":" + port;
  out.token_file = dir + "/token";
  ReadFileOrThrow(out.token_file);
  out.ca_pem = ReadFileOrThrow(dir + "/ca.crt");
  try {
    out.namespace_ = ReadFileOrThrow(dir + "/namespace");
    while (!out.namespace_.empty() && isspace(static_cast<unsigned char>(out.namespace_.back()))) {
      out.namespace_.pop_back();
    }
  } catch (const Error&) {
    out.namespace_ = "default";
  }
  if (out.namespace_.empty()) out.namespace_ = "default";
  out.source = "in-cluster service account " + dir;
  return out;
}

}  // namespace kube
