// The admission records of every cached workload, summed as they change, so that the
// ledger costs O(1) to read instead of a pass over every workload. Pure (no I/O, no
// locking): the controller feeds it from the workload informer's events under its lock.
//
// The ledger is still derived from the records (DESIGN.md): the index holds each
// workload's current charge and the sums are exact (128-bit, so no order of adds and
// removes can overflow and drift); the result saturates like ComputeLedger.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "controller/ledger.h"

namespace iarnet {

class ChargeIndex {
 public:
  struct Entry {
    uint64_t resource_version = 0;
    std::optional<Resources> charge;  // the admission record, if any
  };

  // The workload `key` as the cache now has it; `rejected`: its phase is Rejected.
  void Set(const std::string& key, uint64_t resource_version, std::optional<Resources> charge,
           bool rejected);
  void Erase(const std::string& key);

  const Entry* Find(const std::string& key) const;
  // The ledger of the indexed charges, with `replace` standing in for some keys' charges
  // (a write of ours the cache has not shown yet).
  Ledger ComputeWith(const Resources& total,
                     const std::map<std::string, std::optional<Resources>>& replace) const;
  template <class F>
  void ForEach(F f) const {
    for (const auto& [key, entry] : entries_) f(key, entry);
  }
  const std::set<std::string>& rejected() const { return rejected_; }
  size_t size() const { return entries_.size(); }

 private:
  struct Sum {
    __int128 cpu = 0, memory = 0, gpu = 0;
    int64_t count = 0;
    void Add(const Resources& r, int sign);
  };
  std::map<std::string, Entry> entries_;
  std::set<std::string> rejected_;
  Sum sum_;
};

}  // namespace iarnet
