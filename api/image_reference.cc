#include "api/image_reference.h"

#include <vector>

namespace iarnet {
namespace {

bool LowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool Alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool Digit(char c) { return c >= '0' && c <= '9'; }
bool Alnum(char c) { return Alpha(c) || Digit(c); }
bool Hex(char c) { return Digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool Word(char c) { return Alnum(c) || c == '_'; }

// [a-z0-9]+ { ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ }
bool PathComponent(std::string_view s) {
  size_t i = 0;
  auto run = [&] {
    size_t start = i;
    while (i < s.size() && LowerAlnum(s[i])) ++i;
    return i > start;
  };
  if (!run()) return false;
  while (i < s.size()) {
    if (s[i] == '.') {
      ++i;
    } else if (s[i] == '_') {
      ++i;
      if (i < s.size() && s[i] == '_') ++i;
    } else if (s[i] == '-') {
      while (i < s.size() && s[i] == '-') ++i;
    } else {
      return false;
    }
    if (!run()) return false;
  }
  return true;
}

// [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]
bool DnsLabel(std::string_view s) {
  if (s.empty() || !Alnum(s.front()) || !Alnum(s.back())) return false;
  for (char c : s) {
    if (!Alnum(c) && c != '-') return false;
  }
  return true;
}

bool Domain(std::string_view s) {
  std::string_view host = s;
  if (!s.empty() && s.front() == '[') {
    size_t close = s.find(']');
    if (close == std::string_view::npos || close < 2) return false;
    for (char c : s.substr(1, close - 1)) {
      if (!Hex(c) && c != ':') return false;
    }
    host = {};
    s = s.substr(close + 1);
  } else {
    size_t colon = s.find(':');
    host = s.substr(0, colon);
    s = colon == std::string_view::npos ? std::string_view{} : s.substr(colon);
    for (size_t start = 0;;) {
      size_t dot = host.find('.', start);
      if (!DnsLabel(host.substr(start, dot - start))) return false;
      if (dot == std::string_view::npos) break;
      start = dot + 1;
    }
  }
  if (s.empty()) return true;
  if (s.front() != ':' || s.size() < 2) return false;
  for (char c : s.substr(1)) {
    if (!Digit(c)) return false;
  }
  return true;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  for (size_t start = 0;;) {
    size_t at = s.find(sep, start);
    parts.push_back(s.substr(start, at - start));
    if (at == std::string_view::npos) return parts;
    start = at + 1;
  }
}

std::optional<std::string> DigestProblem(std::string_view d) {
  size_t colon = d.find(':');
  if (colon == std::string_view::npos) return "the digest has no algorithm (algorithm:hex)";
  std::string_view algorithm = d.substr(0, colon), hex = d.substr(colon + 1);
  bool ok = !algorithm.empty();
  for (size_t i = 0; ok && i < algorithm.size(); ++i) {
    char c = algorithm[i];
    bool starts =
        i == 0 || std::string_view("-_+.").find(algorithm[i - 1]) != std::string_view::npos;
    ok = starts ? Alpha(c)
                : (Alnum(c) || std::string_view("-_+.").find(c) != std::string_view::npos);
  }
  if (!ok || std::string_view("-_+.").find(algorithm.back()) != std::string_view::npos)
    return "the digest's algorithm is not valid";
  if (hex.size() < 32) return "the digest has fewer than 32 hex digits";
  for (char c : hex) {
    if (!Hex(c)) return "the digest is not hexadecimal";
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> ImageReferenceProblem(std::string_view ref) {
  if (ref.empty()) return "the image is empty";
  std::string_view rest = ref;
  if (size_t at = rest.find('@'); at != std::string_view::npos) {
    if (auto p = DigestProblem(rest.substr(at + 1))) return p;
    rest = rest.substr(0, at);
  }
  // A tag is what follows the last ':' after the last '/' (a ':' before it is a port).
  size_t slash = rest.rfind('/');
  size_t colon = rest.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    std::string_view tag = rest.substr(colon + 1);
    if (tag.empty() || tag.size() > 128 || !Word(tag.front()))
      return "the tag must be 1 to 128 of [A-Za-z0-9_.-], not starting with '.' or '-'";
    for (char c : tag) {
      if (!Word(c) && c != '.' && c != '-')
        return "the tag must be 1 to 128 of [A-Za-z0-9_.-], not starting with '.' or '-'";
    }
    rest = rest.substr(0, colon);
  }
  if (rest.size() > 255) return "the repository name is longer than 255 characters";
  auto parts = Split(rest, '/');
  bool path_only = true, after_domain = parts.size() >= 2 && Domain(parts[0]);
  for (size_t i = 0; i < parts.size(); ++i) {
    if (!PathComponent(parts[i])) {
      path_only = false;
      if (i > 0) after_domain = false;
    }
  }
  if (!path_only && !after_domain) {
    return "the repository name must be [registry[:port]/]path, each path component "
           "lowercase letters and digits joined by '.', '_', '__' or dashes";
  }
  return std::nullopt;
}

}  // namespace iarnet
