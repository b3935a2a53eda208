#include "kube/time_format.h"

#include <cstdio>
#include <ctime>

namespace kube {

namespace {
std::string Format(SystemTime t, bool micros) {
  auto since = t.time_since_epoch();
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(since);
  std::time_t tt = secs.count();
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  if (micros) {
    long us = long(std::chrono::duration_cast<std::chrono::microseconds>(since - secs).count());
    std::snprintf(buf + n, sizeof buf - n, ".%06ldZ", us);
  } else {
    std::snprintf(buf + n, sizeof buf - n, "Z");
  }
  return buf;
}
}  // namespace

std::string FormatTime(SystemTime t) { return Format(t, false); }
std::string FormatMicroTime(SystemTime t) { return Format(t, true); }

std::optional<SystemTime> ParseTime(const std::string& s) {
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  size_t i = consumed;
  long frac_us = 0;
  if (i < s.size() && s[i] == '.') {
    long scale = 100000;
    for (++i; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); ++i) {
      frac_us += (s[i] - '0') * scale;
      scale /= 10;
    }
  }
  long offset = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int hh = 0, mm = 0;
    if (std::sscanf(s.c_str() + i + 1, "%2d:%2d", &hh, &mm) != 2) return std::nullopt;
    offset = (s[i] == '+' ? 1 : -1) * (hh * 3600 + mm * 60);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  std::time_t tt = timegm(&tm);
  return SystemTime(std::chrono::seconds(tt - offset)) + std::chrono::microseconds(frac_us);
}

}  // namespace kube
