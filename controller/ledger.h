// The capacity ledger's arithmetic: pure, no I/O. The ledger is never stored as a
// counter that could drift; it is always the sum of the admission records on the
// IarnetWorkloads, and admission compares a request with what that sum leaves free.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "api/iarnet_types.h"

namespace iarnet {

// Component-wise, saturating at the int64 limits (never wraps).
Resources Add(const Resources& a, const Resources& b);
// Component-wise total - used, never below zero: lowering the total below what is in
// use stops admissions but reports 0 free, not a negative number.
Resources Available(const Resources& total, const Resources& used);
// True when every component of `request` fits in `free`.
bool Fits(const Resources& request, const Resources& free);
bool IsNegative(const Resources& r);

// "cpu 1500m, memory 512Mi, gpu 1"
std::string Describe(const Resources& r);

struct Ledger {
  Resources total;
  Resources used;       // the sum of the admission records
  Resources available;  // Available(total, used)
  int64_t admitted = 0;
  bool operator==(const Ledger&) const = default;
};

// The ledger for a capacity and the charges recorded on admitted workloads.
Ledger ComputeLedger(const Resources& total, const std::vector<Resources>& charges);

struct Verdict {
  bool admitted = false;
  std::string reason;   // "Admitted" or "InsufficientCapacity"
  std::string message;  // says what was asked and what was free
};

// Whether `request` can be admitted against `ledger`.
Verdict Admit(const Ledger& ledger, const Resources& request);

}  // namespace iarnet
