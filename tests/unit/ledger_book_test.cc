#include "controller/ledger_book.h"

#include <catch2/catch.hpp>

using iarnet::LedgerBook;
using iarnet::Resources;

namespace {
const Resources kCapacity{1000, 1000, 1};
const Resources kCharge{300, 100, 0};
}  // namespace

TEST_CASE("ledger book: the ledger is the sum of the cached records") {
  LedgerBook book;
  book.Observe("ns/a", 5, kCharge, false);
  book.Observe("ns/b", 6, std::nullopt, true);
  auto l = book.Compute(kCapacity, false);
  CHECK(l.used == kCharge);
  CHECK(l.admitted == 1);
  CHECK(book.Rejected() == std::vector<std::string>{"ns/b"});
  book.Forget("ns/a");
  CHECK(book.Compute(kCapacity, false).used == Resources{});
}

TEST_CASE(
    "ledger book: a reservation counts for admission decisions, not for the published ledger") {
  LedgerBook book;
  book.Observe("ns/a", 5, std::nullopt, false);  // cached, not admitted yet
  book.Reserve("ns/a", kCharge);
  CHECK(book.Compute(kCapacity, true).used == kCharge);
  CHECK(book.Compute(kCapacity, false).used == Resources{});
  book.DropReservation("ns/a");  // the write failed
  CHECK(book.Compute(kCapacity, true).used == Resources{});
}

TEST_CASE("ledger book: our write stands in for the cache until the cache reaches its version") {
  LedgerBook book;
  book.Observe("ns/a", 5, std::nullopt, false);
  book.Reserve("ns/a", kCharge);
  book.Wrote("ns/a", 7, kCharge);  // the admission landed at 7; the watch has not shown it
  book.DropReservation("ns/a");    // a reservation only: the written charge stays
  CHECK(book.Compute(kCapacity, false).used == kCharge);
  CHECK(book.Compute(kCapacity, true).used == kCharge);
  book.Observe("ns/a", 6, std::nullopt, false);  // an older event: still ours
  CHECK(book.Compute(kCapacity, false).used == kCharge);
  book.Observe("ns/a", 7, kCharge, false);  // caught up: the cache's record counts, once
  auto l = book.Compute(kCapacity, false);
  CHECK(l.used == kCharge);
  CHECK(l.admitted == 1);
  // A release we wrote hides the cached charge until the cache shows it.
  book.Wrote("ns/a", 9, std::nullopt);
  CHECK(book.Compute(kCapacity, false).used == Resources{});
  book.Observe("ns/a", 8, kCharge, false);
  CHECK(book.Compute(kCapacity, false).used == Resources{});
  book.Observe("ns/a", 9, std::nullopt, false);
  CHECK(book.Compute(kCapacity, false).used == Resources{});
}

TEST_CASE("ledger book: writes for workloads the cache no longer has count for nothing") {
  LedgerBook book;
  book.Reserve("ns/gone", kCharge);
  book.Wrote("ns/gone2", 3, kCharge);
  CHECK(book.Compute(kCapacity, true).used == Resources{});
  // A workload of the same name that comes later starts from its own record.
  book.Discard("ns/gone");
  book.Observe("ns/gone", 10, std::nullopt, false);
  CHECK(book.Compute(kCapacity, true).used == Resources{});
  book.Observe("ns/gone2", 11, std::nullopt, false);  // newer than our write: the cache wins
  CHECK(book.Compute(kCapacity, true).used == Resources{});
}

TEST_CASE(
    "ledger book: the charges but the skipped ones, with writes and reservations standing in") {
  LedgerBook book;
  book.Observe("ns/a", 5, kCharge, false);
  book.Observe("ns/b", 6, kCharge, false);
  book.Observe("ns/c", 7, std::nullopt, false);
  book.Observe("ns/d", 8, std::nullopt, false);
  book.Reserve("ns/c", Resources{1, 1, 0});  // in flight: counts
  book.Wrote("ns/b", 9, std::nullopt);       // released, the cache not there yet
  auto charges = book.ChargesExcept([](const std::string& k) { return k == "ns/a"; });
  CHECK(charges == std::vector<Resources>{Resources{1, 1, 0}});
  CHECK(book.ChargesExcept([](const std::string&) { return false; }).size() == 2);
}
