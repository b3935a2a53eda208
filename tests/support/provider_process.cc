#include "tests/support/provider_process.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include "tests/support/support.h"

namespace testing {

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (fd < 0 || bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (fd >= 0) close(fd);
    throw std::runtime_error("cannot find a free port");
  }
  close(fd);
  return ntohs(addr.sin_port);
}

ProviderProcess::ProviderProcess(std::string config_yaml, std::string log_path)
    : log_path_(std::move(log_path)) {
  config_path_ = log_path_ + ".config.yaml";
  std::ofstream(config_path_) << config_yaml;
  std::ofstream(log_path_, std::ios::trunc).flush();
}

ProviderProcess::~ProviderProcess() {
  if (pid_ > 0) Kill(SIGKILL);
  unlink(config_path_.c_str());
}

void ProviderProcess::Start() {
  if (pid_ > 0) throw std::logic_error("the provider is already running");
  std::string binary = IARNET_PROVIDER_BINARY;
  // The chart's ServiceAccount when `make test` set one up (its RBAC must be enough),
  // else the admin's.
  const char* sa = std::getenv("IARNET_PROVIDER_KUBECONFIG");
  std::string kubeconfig = sa && *sa ? sa : Env("KUBECONFIG");
  log_offset_ = Log().size();
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    int fd = open(log_path_.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
    }
    // The test blocks no signals the provider needs; start it with a clean mask.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execl(binary.c_str(), binary.c_str(), "--config", config_path_.c_str(), "--kubeconfig",
          kubeconfig.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  pid_ = pid;
}

int ProviderProcess::Kill(int signal) {
  if (pid_ <= 0) return 0;
  kill(pid_, signal);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return status;
}

std::optional<int> ProviderProcess::SignalAndWait(int signal, std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return 0;
  kill(pid_, signal);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (waitpid(pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() >= deadline) {
      Kill(SIGKILL);
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  pid_ = -1;
  return status;
}

bool ProviderProcess::ReapIfExited() {
  int status = 0;
  if (pid_ <= 0 || waitpid(pid_, &status, WNOHANG) != pid_) return false;
  pid_ = -1;
  return true;
}

std::string ProviderProcess::Log() const {
  std::ifstream in(log_path_);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool ProviderProcess::WaitForLog(const std::string& text, std::chrono::milliseconds timeout) {
  return Eventually(
      [&] {
        std::string log = Log();
        return log.size() > log_offset_ && log.find(text, log_offset_) != std::string::npos;
      },
      timeout);
}

}  // namespace testing
