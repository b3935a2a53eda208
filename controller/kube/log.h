// Minimal structured logging to stderr: one line per message, with time, level and the
// component that speaks. Thread-safe. Tests may raise the threshold to keep output short.
// A message is escaped (control characters, invalid UTF-8: text.h) and cut at
// kMaxLogMessageBytes, so whatever it quotes it stays one bounded line.
#pragma once

#include <cstddef>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

namespace kube {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

inline constexpr size_t kMaxLogMessageBytes = 8192;

// The level is kInfo until the application sets another.
void SetLogLevel(LogLevel level);
// "debug", "info", "warning", "error"; nullopt for anything else.
std::optional<LogLevel> ParseLogLevel(std::string_view name);
bool LogEnabled(LogLevel level);
void LogLine(LogLevel level, const std::string& component, const std::string& message);

}  // namespace kube

// KLOG(kInfo, "informer") << "synced " << n << " objects";
#define KLOG(level, component)                        \
  if (!::kube::LogEnabled(::kube::LogLevel::level)) { \
  } else                                              \
    ::kube::detail::LogStream(::kube::LogLevel::level, component).os()

namespace kube::detail {
class LogStream {
 public:
  LogStream(LogLevel level, const char* component) : level_(level), component_(component) {}
  ~LogStream() { LogLine(level_, component_, os_.str()); }
  std::ostringstream& os() { return os_; }

 private:
  LogLevel level_;
  const char* component_;
  std::ostringstream os_;
};
}  // namespace kube::detail
