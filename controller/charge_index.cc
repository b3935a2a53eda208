#include "controller/charge_index.h"

#include <limits>

namespace iarnet {
namespace {

int64_t Saturate(__int128 v) {
  if (v > std::numeric_limits<int64_t>::max()) return std::numeric_limits<int64_t>::max();
  if (v < std::numeric_limits<int64_t>::min()) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(v);
}

}  // namespace

void ChargeIndex::Sum::Add(const Resources& r, int sign) {
  cpu += static_cast<__int128>(r.cpu) * sign;
  memory += static_cast<__int128>(r.memory) * sign;
  gpu += static_cast<__int128>(r.gpu) * sign;
  count += sign;
}

void ChargeIndex::Set(const std::string& key, uint64_t resource_version,
                      std::optional<Resources> charge, bool rejected) {
  Entry& e = entries_[key];
  if (e.charge) sum_.Add(*e.charge, -1);
  e.resource_version = resource_version;
  e.charge = charge;
  if (e.charge) sum_.Add(*e.charge, +1);
  if (rejected)
    rejected_.insert(key);
  else
    rejected_.erase(key);
}

void ChargeIndex::Erase(const std::string& key) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return;
  if (it->second.charge) sum_.Add(*it->second.charge, -1);
  entries_.erase(it);
  rejected_.erase(key);
}

const ChargeIndex::Entry* ChargeIndex::Find(const std::string& key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : &it->second;
}

Ledger ChargeIndex::ComputeWith(
    const Resources& total, const std::map<std::string, std::optional<Resources>>& replace) const {
  Sum s = sum_;
  for (const auto& [key, charge] : replace) {
    const Entry* e = Find(key);
    if (!e) continue;  // not cached (deleted): nothing to charge
    if (e->charge) s.Add(*e->charge, -1);
    if (charge) s.Add(*charge, +1);
  }
  Ledger l;
  l.total = total;
  l.used = {Saturate(s.cpu), Saturate(s.memory), Saturate(s.gpu)};
  l.available = Available(total, l.used);
  l.admitted = s.count;
  return l;
}

}  // namespace iarnet
