// The provider binary as a child process of a test, as users and CI run it: started
// with a config file of the test's making, killed with any signal, restarted.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>

namespace testing {

// A TCP port nobody listens on now (the kernel's choice).
int FreePort();

class ProviderProcess {
 public:
  // `config_yaml` is written to a file of its own; the log goes to `log_path`.
  // `--kubeconfig` is added: $IARNET_PROVIDER_KUBECONFIG (the chart's ServiceAccount,
  // as `make test` sets it) or else $KUBECONFIG.
  ProviderProcess(std::string config_yaml, std::string log_path);
  ~ProviderProcess();  // SIGKILLs a process still running

  void Start();
  // Sends `signal` and reaps the process; returns its wait status.
  int Kill(int signal);
  // Sends `signal` and waits at most `timeout` for the process to end: its wait status,
  // or nullopt when it is still running then (it is SIGKILLed and reaped).
  std::optional<int> SignalAndWait(int signal, std::chrono::milliseconds timeout);
  // Reaps the process if it has ended on its own (a replica that lost its lease exits):
  // true then, and running() turns false. Never blocks.
  bool ReapIfExited();
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  // Waits until the log contains `text` (after the current start), or the time passes.
  bool WaitForLog(const std::string& text,
                  std::chrono::milliseconds timeout = std::chrono::seconds(60));
  std::string Log() const;

 private:
  std::string config_path_;
  std::string log_path_;
  size_t log_offset_ = 0;  // where the current start's output begins
  pid_t pid_ = -1;
};

}  // namespace testing
