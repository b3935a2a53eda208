// The ledger as the operator keeps it: every cached workload's admission record (the
// charge index, fed by the workload informer in the same step as its cache), plus the
// operator's own writes the cache has not shown yet, plus the charges of admissions whose
// write is still in flight. Pure rules, one lock; no I/O.
//
// Why the overlay: after the controller records a charge, the next admission may run
// before the watch brings that write back into the cache. Until the cache reaches the
// written resourceVersion, the written charge stands in for the cached record, so no
// capacity is handed out twice (DESIGN.md invariant 2). A reservation goes further: it
// counts a charge while its write is in flight, for admission decisions only; the
// published ledger (what GetCapacity reports) counts written charges alone.
//
// Threads and locks: every member function may be called from any thread, including the
// informer's watch thread inside its cache lock (Observe, Forget). mu_ guards charges_
// and written_; nothing is called while it is held but ChargesExcept's `skip`.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "controller/charge_index.h"
#include "controller/ledger.h"

namespace iarnet {

class LedgerBook {
 public:
  // The workload `key` as the cache now has it (its record's charge, if admitted, and
  // whether it is Rejected).
  void Observe(const std::string& key, uint64_t resource_version, std::optional<Resources> charge,
               bool rejected);
  // `key` left the cache.
  void Forget(const std::string& key);

  // An admission decided to charge `key`, and its write is in flight.
  void Reserve(const std::string& key, const Resources& charge);
  // The in-flight write ended (it landed, and Wrote recorded it, or it failed).
  void DropReservation(const std::string& key);
  // Our write of `key` landed at `resource_version` with `charge` (nullopt: released).
  void Wrote(const std::string& key, uint64_t resource_version, std::optional<Resources> charge);
  // Drops what we wrote or reserved for `key` (the workload is gone).
  void Discard(const std::string& key);

  // The ledger against `capacity`: cached records with our unobserved writes standing in,
  // and with `count_reserved` (admission decisions) the in-flight charges too. Our writes
  // for keys the cache no longer has count for nothing.
  Ledger Compute(const Resources& capacity, bool count_reserved);

  // The charges of workloads for which `skip` (called with mu_ held: it may take only
  // a leaf lock of its own, such as the node view's) says no: with our unobserved writes
  // and in-flight reservations standing in, as Compute(_, true) counts them.
  std::vector<Resources> ChargesExcept(const std::function<bool(const std::string& key)>& skip);

  // The keys of cached workloads that are Rejected (to look at again when capacity frees).
  std::vector<std::string> Rejected() const;

 private:
  // A resourceVersion that no cached version reaches: a reservation.
  static constexpr uint64_t kReserved = UINT64_MAX;
  struct Written {
    uint64_t resource_version;
    std::optional<Resources> charge;
  };

  mutable std::mutex mu_;
  ChargeIndex charges_;                     // guarded by mu_
  std::map<std::string, Written> written_;  // guarded by mu_: ours, not yet in the cache
};

}  // namespace iarnet
