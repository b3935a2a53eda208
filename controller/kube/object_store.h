// The rules by which an informer's cache takes what the watch and our own writes bring,
// decided from resourceVersions alone. Pure: no I/O and no locking (the informer holds
// its lock around every call), so the rules are tested with synthesized events
// (tests/unit/kube/object_store_test.cc).
//
// - A watch event is in order: it is stored unless the cache already holds that version
//   or a newer one, which can only be a write of ours assumed earlier that the watch is
//   catching up to.
// - An assumed write (Informer::Assume: an object our write just returned) is stored
//   only after the first list, with a known version newer than everything the watch has
//   delivered (else the cache already has it, something newer, or its deletion: a ghost
//   after a delete must never appear) and newer than the cached version.
// - A relist replaces the cache with the list, but keeps cached objects newer than the
//   list's version (writes assumed while the list was read; the watch resumes from the
//   list's version and brings them); objects missing from the list were deleted unseen.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace kube {

using json = nlohmann::json;
using ObjectPtr = std::shared_ptr<const json>;

class ObjectStore {
 public:
  // One cached object: its DOM, or (a compact cache) its packed bytes.
  struct Stored {
    ObjectPtr object;
    std::string packed;  // a few hundred bytes: copied by readers, no shared block
    std::string version;
  };
  // What one step changed, for the handlers: added (no before), updated, or removed (no
  // after).
  struct Change {
    std::string key;
    std::optional<Stored> before, after;
  };

  // `make` builds the entry (decoding and packing cost): called only when it is taken.
  using Make = std::function<Stored()>;
  // A watch event (added or modified) at `version`; nullopt when the cache keeps what it
  // has.
  std::optional<Change> Watched(const std::string& key, const std::string& version,
                                const Make& make);
  // A write of ours at `version` before the watch brings it; nullopt when refused.
  std::optional<Change> Assumed(const std::string& key, const std::string& version,
                                const Make& make);
  // A watch deletion at `version`; the change is empty of `before` when it was not cached.
  Change Deleted(const std::string& key, const std::string& version);

  // A relist: Begin, each listed object, End with the list's resourceVersion.
  void ListBegin();
  // The cached entry for `key` when it is at `version` (to reuse it unchanged), else null.
  const Stored* Unchanged(const std::string& key, const std::string& version) const;
  // A listed object; `changed`: it is not the cached entry (Unchanged gave none).
  void Listed(const std::string& key, Stored stored, bool changed);
  // Swaps the list in; returns what changed against the cache it replaced.
  std::vector<Change> ListEnd(const std::string& list_version);

  // The first list has been delivered: assumed writes are taken from now on.
  void SetSynced() { synced_ = true; }
  bool synced() const { return synced_; }

  const Stored* Find(const std::string& key) const;
  const std::unordered_map<std::string, Stored>& entries() const { return cache_; }

 private:
  std::optional<Change> Put(const std::string& key, uint64_t number, const Make& make);

  std::unordered_map<std::string, Stored> cache_;
  bool synced_ = false;
  // The newest resourceVersion the watch has delivered (a list's, or an event's): what
  // the cache is known to reflect.
  uint64_t delivered_version_ = 0;
  // The relist in progress: the next cache, and the keys whose object is new or changed.
  std::unordered_map<std::string, Stored> next_;
  std::vector<std::string> changed_;
};

// A resourceVersion as a number: they are etcd revisions, integers that only grow (the
// API promises no order, but every server this library talks to has them). 0 when
// absent or not a decimal integer.
uint64_t ResourceVersionNumber(const std::string& resource_version);
uint64_t ResourceVersionNumber(const json& object);

}  // namespace kube
