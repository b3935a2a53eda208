#include "api/names.h"

#include <cctype>
#include <cstdint>
#include <cstdio>

namespace iarnet {
namespace {

std::string Hash8(const std::string& text) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a, 64 bit: stable across builds
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char out[9];
  std::snprintf(out, sizeof out, "%08x", static_cast<unsigned>((h >> 32) ^ h));
  return out;
}

bool Alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// Keeps [a-z0-9-] (lower-cased), maps the rest to '-', trims '-' at both ends and cuts
// to `max` characters.
std::string Sanitize(const std::string& text, size_t max) {
  std::string out;
  for (char c : text) {
    char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out += (Alnum(l) && static_cast<unsigned char>(l) < 128) ? l : '-';
  }
  if (out.size() > max) out.resize(max);
  while (!out.empty() && out.back() == '-') out.pop_back();
  size_t start = out.find_first_not_of('-');
  return start == std::string::npos ? "" : out.substr(start);
}

}  // namespace

std::string WorkloadNameFor(const std::string& instance_id) {
  std::string base = Sanitize(instance_id, 63 - 9);
  return (base.empty() ? "w" : base) + "-" + Hash8(instance_id);
}

bool IsLabelValue(const std::string& t) {
  if (t.empty()) return true;
  if (t.size() > 63 || !Alnum(t.front()) || !Alnum(t.back())) return false;
  for (char c : t) {
    if (!(Alnum(c) || c == '-' || c == '_' || c == '.') || static_cast<unsigned char>(c) >= 128)
      return false;
  }
  return true;
}

std::string LabelValueFor(const std::string& id) {
  if (IsLabelValue(id)) return id;
  std::string base = Sanitize(id, 63 - 9);
  return (base.empty() ? "x" : base) + "-" + Hash8(id);
}

bool IsEnvVarName(const std::string& t) {
  if (t.empty() || std::isdigit(static_cast<unsigned char>(t.front()))) return false;
  for (char c : t) {
    if (!(Alnum(c) || c == '_' || c == '-' || c == '.') || static_cast<unsigned char>(c) >= 128)
      return false;
  }
  return true;
}

}  // namespace iarnet
