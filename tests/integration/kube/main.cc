// Entry point of the client's integration tests: Catch2, plus a child mode used by the
// leader-election test to run an elector in a process it can SIGKILL.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <string>

#include "kube/log.h"

int RunElectorChild(const std::string& ns, const std::string& identity);

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "--elector-child")
    return RunElectorChild(argv[2], argv[3]);
  const char* level = std::getenv("IARNET_LOG_LEVEL");
  kube::SetLogLevel(level && kube::ParseLogLevel(level) ? *kube::ParseLogLevel(level)
                                                        : kube::LogLevel::kWarning);
  return Catch::Session().run(argc, argv);
}
