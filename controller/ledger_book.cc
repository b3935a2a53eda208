#include "controller/ledger_book.h"

namespace iarnet {

void LedgerBook::Observe(const std::string& key, uint64_t resource_version,
                         std::optional<Resources> charge, bool rejected) {
  std::lock_guard<std::mutex> lock(mu_);
  charges_.Set(key, resource_version, charge, rejected);
}

void LedgerBook::Forget(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  charges_.Erase(key);
}

void LedgerBook::Reserve(const std::string& key, const Resources& charge) {
  std::lock_guard<std::mutex> lock(mu_);
  written_[key] = {kReserved, charge};
}

void LedgerBook::DropReservation(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = written_.find(key);
  if (it != written_.end() && it->second.resource_version == kReserved) written_.erase(it);
}

void LedgerBook::Wrote(const std::string& key, uint64_t resource_version,
                       std::optional<Resources> charge) {
  std::lock_guard<std::mutex> lock(mu_);
  written_[key] = {resource_version, charge};
}

void LedgerBook::Discard(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  written_.erase(key);
}

Ledger LedgerBook::Compute(const Resources& capacity, bool count_reserved) {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, std::optional<Resources>> unobserved;
  for (auto it = written_.begin(); it != written_.end();) {
    bool reserved = it->second.resource_version == kReserved;
    const ChargeIndex::Entry* cached = charges_.Find(it->first);
    if (!reserved && cached && cached->resource_version >= it->second.resource_version) {
      it = written_.erase(it);  // the cache caught up
      continue;
    }
    if (cached && (count_reserved || !reserved)) unobserved[it->first] = it->second.charge;
    ++it;
  }
  return charges_.ComputeWith(capacity, unobserved);
}

std::vector<Resources> LedgerBook::ChargesExcept(
    const std::function<bool(const std::string& key)>& skip) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Resources> out;
  auto take = [&](const std::string& key, const std::optional<Resources>& charge) {
    if (charge && !skip(key)) out.push_back(*charge);
  };
  charges_.ForEach([&](const std::string& key, const ChargeIndex::Entry& e) {
    auto w = written_.find(key);
    if (w == written_.end() || (w->second.resource_version != kReserved &&
                                e.resource_version >= w->second.resource_version)) {
      take(key, e.charge);
    } else {
      take(key, w->second.charge);
    }
  });
  return out;
}

std::vector<std::string> LedgerBook::Rejected() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {charges_.rejected().begin(), charges_.rejected().end()};
}

}  // namespace iarnet
