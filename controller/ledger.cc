#include "controller/ledger.h"

#include <limits>

#include "api/quantity.h"

namespace iarnet {
namespace {

int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t out;
  if (__builtin_add_overflow(a, b, &out)) {
    return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  }
  return out;
}

int64_t FreeOf(int64_t total, int64_t used) {
  if (used >= total) return 0;
  int64_t out;
  if (__builtin_sub_overflow(total, used, &out)) return std::numeric_limits<int64_t>::max();
  return out;
}

}  // namespace

Resources Add(const Resources& a, const Resources& b) {
  return {SaturatingAdd(a.cpu, b.cpu), SaturatingAdd(a.memory, b.memory),
          SaturatingAdd(a.gpu, b.gpu)};
}

Resources Available(const Resources& total, const Resources& used) {
  return {FreeOf(total.cpu, used.cpu), FreeOf(total.memory, used.memory),
          FreeOf(total.gpu, used.gpu)};
}

bool Fits(const Resources& request, const Resources& free) {
  return request.cpu <= free.cpu && request.memory <= free.memory && request.gpu <= free.gpu;
}

bool IsNegative(const Resources& r) { return r.cpu < 0 || r.memory < 0 || r.gpu < 0; }

std::string Describe(const Resources& r) {
  return "cpu " + FormatMillicores(r.cpu) + ", memory " + FormatBytes(r.memory) + ", gpu " +
         std::to_string(r.gpu);
}

Ledger ComputeLedger(const Resources& total, const std::vector<Resources>& charges) {
  Ledger l;
  l.total = total;
  for (const auto& c : charges) {
    l.used = Add(l.used, c);
    ++l.admitted;
  }
  l.available = Available(total, l.used);
  return l;
}

Verdict Admit(const Ledger& ledger, const Resources& request) {
  if (IsNegative(request)) {
    return {false, "InvalidRequest",
            "requested " + Describe(request) + ": quantities must not be negative"};
  }
  if (!Fits(request, ledger.available)) {
    return {false, "InsufficientCapacity",
            "insufficient capacity: requested " + Describe(request) + "; available " +
                Describe(ledger.available) + " of " + Describe(ledger.total)};
  }
  return {true, "Admitted", "admitted " + Describe(request)};
}

}  // namespace iarnet
