#include "api/quantity.h"

#include <cctype>
#include <limits>

namespace iarnet {
namespace {

using i128 = __int128;
constexpr i128 kMax = std::numeric_limits<int64_t>::max();
// Large enough for any int64 result times 10^18 without overflowing 128 bits.
constexpr int kMaxDigits = 30;

struct Suffix {
  int base;      // 2 or 10
  int exponent;  // power of base
};

bool ParseSuffix(std::string_view s, Suffix& out) {
  struct Entry {
    std::string_view text;
    Suffix suffix;
  };
  static constexpr Entry kTable[] = {
      {"", {10, 0}},   {"n", {10, -9}}, {"u", {10, -6}}, {"m", {10, -3}},
      {"k", {10, 3}},  {"M", {10, 6}},  {"G", {10, 9}},  {"T", {10, 12}},
      {"P", {10, 15}}, {"E", {10, 18}}, {"Ki", {2, 10}}, {"Mi", {2, 20}},
      {"Gi", {2, 30}}, {"Ti", {2, 40}}, {"Pi", {2, 50}}, {"Ei", {2, 60}},
  };
  for (const auto& e : kTable) {
    if (s == e.text) {
      out = e.suffix;
      return true;
    }
  }
  // Decimal exponent: e3, E-2, e+6.
  if (s.size() >= 2 && (s[0] == 'e' || s[0] == 'E')) {
    size_t i = 1;
    bool negative = false;
    if (s[i] == '+' || s[i] == '-') negative = s[i++] == '-';
    if (i == s.size() || s.size() - i > 3) return false;
    int exp = 0;
    for (; i < s.size(); ++i) {
      if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
      exp = exp * 10 + (s[i] - '0');
    }
    out = {10, negative ? -exp : exp};
    return true;
  }
  return false;
}

QuantityError Error(std::string_view text, std::string_view why) {
  return QuantityError{"invalid quantity \"" + std::string(text) + "\": " + std::string(why)};
}

// Parses text and returns ceil(value * scale), where scale is 1 or 1000.
QuantityResult Parse(std::string_view text, int64_t scale) {
  std::string_view s = text;
  if (s.empty()) return Error(text, "empty");
  bool negative = false;
  if (s[0] == '+' || s[0] == '-') {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  i128 mantissa = 0;
  int digits = 0, fraction_digits = 0;
  bool seen_point = false, any_digit = false;
  size_t i = 0;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c == '.' && !seen_point) {
      seen_point = true;
      continue;
    }
    if (!std::isdigit(static_cast<unsigned char>(c))) break;
    any_digit = true;
    if (mantissa == 0 && c == '0') {
      if (seen_point) ++fraction_digits;
      continue;  // leading zeros carry no precision
    }
    if (++digits > kMaxDigits) return Error(text, "too many digits");
    mantissa = mantissa * 10 + (c - '0');
    if (seen_point) ++fraction_digits;
  }
  if (!any_digit) return Error(text, "no digits");
  Suffix suffix{};
  if (!ParseSuffix(s.substr(i), suffix)) {
    return Error(text, "unknown suffix \"" + std::string(s.substr(i)) +
                           "\" (use n u m k M G T P E, Ki Mi Gi Ti Pi Ei, or eN)");
  }

  // value = mantissa * 10^exp10 * 2^exp2 * scale, computed exactly and rounded up.
  int exp10 = -fraction_digits + (suffix.base == 10 ? suffix.exponent : 0);
  int exp2 = suffix.base == 2 ? suffix.exponent : 0;
  i128 value = mantissa * scale;
  const i128 kLimit = kMax * 1000;  // past this nothing can come back into range
  for (; exp2 > 0; --exp2) {
    value *= 2;
    if (value > kLimit) return Error(text, "out of range for a 64-bit integer");
  }
  for (; exp10 > 0; --exp10) {
    value *= 10;
    if (value > kLimit) return Error(text, "out of range for a 64-bit integer");
  }
  if (exp10 < 0) {
    if (exp10 < -38) {
      value = value == 0 ? 0 : 1;  // a positive value this small still rounds up to 1
    } else {
      i128 divisor = 1;
      for (; exp10 < 0; ++exp10) divisor *= 10;
      value = (value + divisor - 1) / divisor;
    }
  }
  if (value > kMax) return Error(text, "out of range for a 64-bit integer");
  int64_t result = static_cast<int64_t>(value);
  return negative ? -result : result;
}

}  // namespace

QuantityResult ParseQuantity(std::string_view text) { return Parse(text, 1); }
QuantityResult ParseMilliQuantity(std::string_view text) { return Parse(text, 1000); }

std::string FormatMillicores(int64_t millicores) {
  if (millicores % 1000 == 0) return std::to_string(millicores / 1000);
  return std::to_string(millicores) + "m";
}

std::string FormatBytes(int64_t bytes) {
  static constexpr const char* kBinary[] = {"Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
  if (bytes == 0) return "0";
  std::string suffix;
  for (const char* s : kBinary) {
    if (bytes % 1024 != 0) break;
    bytes /= 1024;
    suffix = s;
  }
  return std::to_string(bytes) + suffix;
}

}  // namespace iarnet
