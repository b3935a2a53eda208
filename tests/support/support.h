// Shared pieces of the client's integration tests: the local cluster's coordinates (from
// the environment `make test` sets), a namespace per test, and polling.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

#include "kube/client.h"

namespace testing {

// KUBECONFIG, IARNET_CLUSTER_DIR, IARNET_ETCD_PORT and IARNET_SOURCE_DIR, required.
std::string Env(const char* name);

// An admin client for the local cluster.
std::unique_ptr<kube::Client> AdminClient(kube::TransportOptions options = {});

// Runs a shell command; returns its exit status.
int Shell(const std::string& command);
// Runs a command and returns its standard output (trimmed); throws on failure.
std::string Capture(const std::string& command);

// hack/local-cluster.sh stop/start COMPONENT.
void StopComponent(const std::string& name);
void StartComponent(const std::string& name);
// hack/local-cluster.sh pause/resume COMPONENT: SIGSTOP/SIGCONT, sockets kept open.
void PauseComponent(const std::string& name);
void ResumeComponent(const std::string& name);
// Pauses a component while alive; resumes it on the way out, even when the test fails.
class PausedComponent {
 public:
  explicit PausedComponent(std::string name) : name_(std::move(name)) { PauseComponent(name_); }
  ~PausedComponent() {
    try {
      Resume();
    } catch (const std::exception&) {
    }
  }
  void Resume() {
    if (paused_) ResumeComponent(name_);
    paused_ = false;
  }

 private:
  std::string name_;
  bool paused_ = true;
};

// A namespace of the test's own, deleted when it goes out of scope.
class TestNamespace {
 public:
  explicit TestNamespace(kube::Client& client, const std::string& prefix = "it");
  ~TestNamespace();
  const std::string& name() const { return name_; }
  operator const std::string&() const { return name_; }

 private:
  kube::Client& client_;
  std::string name_;
};

// Whether the object is absent (NotFound); other errors throw.
bool Absent(kube::Client& c, const kube::ResourceType& t, const std::string& ns,
            const std::string& name);

// Polls `condition` every `poll` until it holds or `timeout` passes.
bool Eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds timeout = std::chrono::seconds(30),
                std::chrono::milliseconds poll = std::chrono::milliseconds(100));

// A ConfigMap object.
kube::json ConfigMap(const std::string& name, const kube::json& data = kube::json::object(),
                     const kube::json& labels = kube::json::object());

}  // namespace testing
