#include "tests/support/support.h"

#include <array>
#include <cstdio>
#include <random>
#include <stdexcept>
#include <thread>

#include "controller/iarnet_resources.h"
#include "kube/error.h"

namespace testing {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v)
    throw std::runtime_error(std::string(name) + " is not set: run through `make test`");
  return v;
}

std::unique_ptr<kube::Client> AdminClient(kube::TransportOptions options) {
  return std::make_unique<kube::Client>(kube::LoadKubeconfig(Env("KUBECONFIG")), options);
}

int Shell(const std::string& command) {
  int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string Capture(const std::string& command) {
  std::array<char, 4096> buf;
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (!p) throw std::runtime_error("cannot run " + command);
  while (size_t n = fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  int status = pclose(p);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw std::runtime_error(command + " failed");
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

void StopComponent(const std::string& name) {
  if (Shell(Env("IARNET_SOURCE_DIR") + "/hack/local-cluster.sh stop " + name) != 0) {
    throw std::runtime_error("cannot stop " + name);
  }
}

namespace {

// After an API server or etcd outage the controller manager's watches come back with
// their backoff (up to a minute when outages follow each other): until then a new
// namespace gets no default ServiceAccount, and Pods in it are refused. The test that
// made the outage waits for that, so the tests after it find a whole cluster.
void WaitForControllerManager() {
  auto c = AdminClient();
  std::unique_ptr<TestNamespace> probe;
  bool made = Eventually(
      [&] {
        try {
          probe = std::make_unique<TestNamespace>(*c, "probe");
          return true;
        } catch (const kube::Error&) {
          return false;
        }
      },
      std::chrono::seconds(120));
  bool caught_up = made && Eventually(
                               [&] {
                                 try {
                                   c->Get(kube::resources::kServiceAccounts, *probe, "default");
                                   return true;
                                 } catch (const kube::Error&) {
                                   return false;
                                 }
                               },
                               std::chrono::seconds(180));
  if (!caught_up)
    throw std::runtime_error("the controller manager did not catch up after a restart");
}

}  // namespace

void StartComponent(const std::string& name) {
  if (Shell(Env("IARNET_SOURCE_DIR") + "/hack/local-cluster.sh start " + name) != 0) {
    throw std::runtime_error("cannot start " + name);
  }
  if (name == "kube-apiserver" || name == "etcd") WaitForControllerManager();
}

void PauseComponent(const std::string& name) {
  if (Shell(Env("IARNET_SOURCE_DIR") + "/hack/local-cluster.sh pause " + name) != 0) {
    throw std::runtime_error("cannot pause " + name);
  }
}

void ResumeComponent(const std::string& name) {
  if (Shell(Env("IARNET_SOURCE_DIR") + "/hack/local-cluster.sh resume " + name) != 0) {
    throw std::runtime_error("cannot resume " + name);
  }
}

TestNamespace::TestNamespace(kube::Client& client, const std::string& prefix) : client_(client) {
  std::random_device rd;
  name_ = prefix + "-" + std::to_string(rd() % 1000000);
  client_.Create(kube::resources::kNamespaces, "",
                 {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name_}}}});
}

// The test's providers are gone by now (they are declared after the namespace), so the
// release finalizer of its workloads would keep the namespace Terminating for good, and
// the namespace controller retrying it is load every later test would pay for.
TestNamespace::~TestNamespace() {
  try {
    client_.Delete(kube::resources::kNamespaces, "", name_);
    kube::json left = client_.ListAll(iarnet::kWorkloadResource, name_);
    for (const auto& w : left["items"]) {
      if (!w["metadata"].contains("finalizers")) continue;
      try {
        client_.Patch(iarnet::kWorkloadResource, name_, w["metadata"]["name"],
                      kube::PatchType::kMerge, {{"metadata", {{"finalizers", nullptr}}}});
      } catch (const kube::Error&) {  // gone meanwhile
      }
    }
  } catch (const std::exception&) {
  }
}

bool Absent(kube::Client& c, const kube::ResourceType& t, const std::string& ns,
            const std::string& name) {
  try {
    c.Get(t, ns, name);
    return false;
  } catch (const kube::Error& e) {
    if (e.IsNotFound()) return true;
    throw;
  }
}

bool Eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout,
                std::chrono::milliseconds poll) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    try {
      if (condition()) return true;
    } catch (const kube::Error&) {
    }
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(poll);
  }
}

kube::json ConfigMap(const std::string& name, const kube::json& data, const kube::json& labels) {
  kube::json cm = {
      {"apiVersion", "v1"}, {"kind", "ConfigMap"}, {"metadata", {{"name", name}}}, {"data", data}};
  if (!labels.empty()) cm["metadata"]["labels"] = labels;
  return cm;
}

}  // namespace testing
