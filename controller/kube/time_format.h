// RFC 3339 timestamps as the API server writes them.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace kube {

using SystemTime = std::chrono::system_clock::time_point;

// "2026-11-30T10:00:00Z"
std::string FormatTime(SystemTime t);
// "2026-11-30T10:00:00.123456Z" (metav1.MicroTime, used by Leases and events.k8s.io)
std::string FormatMicroTime(SystemTime t);
// Parses both forms (and numeric offsets); nullopt when malformed.
std::optional<SystemTime> ParseTime(const std::string& text);

}  // namespace kube
