#include "kube/text.h"

namespace kube {

size_t Utf8SequenceLength(std::string_view s) {
  if (s.empty()) return 0;
  auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char c = b(0);
  if (c < 0x80) return 1;
  size_t n;
  unsigned min;
  unsigned cp;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2, min = 0x80, cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3, min = 0x800, cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4, min = 0x10000, cp = c & 0x07;
  } else {
    return 0;  // a continuation byte, C0/C1 (overlong) or F5..FF
  }
  if (s.size() < n) return 0;
  for (size_t i = 1; i < n; ++i) {
    if ((b(i) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

bool IsPrintableUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t n = Utf8SequenceLength(s.substr(i));
    if (n == 0) return false;
    if (n == 1 && (static_cast<unsigned char>(s[i]) < 0x20 || s[i] == 0x7F)) return false;
    i += n;
  }
  return true;
}

std::string EscapeText(std::string_view text, size_t max_bytes, bool quote_marks) {
  static const char kHex[] = "0123456789abcdef";
  std::string_view shown = text.substr(0, max_bytes);
  std::string out;
  out.reserve(shown.size() + 8);
  for (size_t i = 0; i < shown.size();) {
    unsigned char c = static_cast<unsigned char>(shown[i]);
    size_t n = Utf8SequenceLength(shown.substr(i));
    if (n > 1) {
      out.append(shown.substr(i, n));
      i += n;
      continue;
    }
    ++i;
    if (n == 1 && c >= 0x20 && c != 0x7F) {
      if (quote_marks && (c == '"' || c == '\\')) out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  if (text.size() > shown.size()) {
    out += "...(" + std::to_string(text.size() - shown.size()) + " more bytes)";
  }
  return out;
}

std::string Quoted(std::string_view text, size_t max_bytes) {
  return '"' + EscapeText(text, max_bytes, true) + '"';
}

}  // namespace kube
