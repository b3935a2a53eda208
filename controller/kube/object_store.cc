#include "kube/object_store.h"

#include <algorithm>

namespace kube {

uint64_t ResourceVersionNumber(const std::string& v) {
  uint64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9' || n > (UINT64_MAX - 9) / 10) return 0;
    n = n * 10 + uint64_t(c - '0');
  }
  return n;
}

uint64_t ResourceVersionNumber(const json& object) {
  const json& meta = object.value("metadata", json::object());
  return ResourceVersionNumber(meta.value("resourceVersion", ""));
}

std::optional<ObjectStore::Change> ObjectStore::Put(const std::string& key, uint64_t number,
                                                    const Make& make) {
  auto it = cache_.find(key);
  if (it != cache_.end() && number != 0 && ResourceVersionNumber(it->second.version) >= number) {
    return std::nullopt;
  }
  Stored stored = make();
  Change c{key, std::nullopt, stored};
  if (it != cache_.end()) {
    c.before = std::move(it->second);
    it->second = std::move(stored);
  } else {
    cache_.emplace(key, std::move(stored));
  }
  return c;
}

std::optional<ObjectStore::Change> ObjectStore::Watched(const std::string& key,
                                                        const std::string& version,
                                                        const Make& make) {
  uint64_t number = ResourceVersionNumber(version);
  delivered_version_ = std::max(delivered_version_, number);
  return Put(key, number, make);
}

std::optional<ObjectStore::Change> ObjectStore::Assumed(const std::string& key,
                                                        const std::string& version,
                                                        const Make& make) {
  uint64_t number = ResourceVersionNumber(version);
  if (!synced_ || number == 0 || number <= delivered_version_) return std::nullopt;
  return Put(key, number, make);
}

ObjectStore::Change ObjectStore::Deleted(const std::string& key, const std::string& version) {
  delivered_version_ = std::max(delivered_version_, ResourceVersionNumber(version));
  Change c{key, std::nullopt, std::nullopt};
  auto it = cache_.find(key);
  if (it != cache_.end()) {
    c.before = std::move(it->second);
    cache_.erase(it);
  }
  return c;
}

void ObjectStore::ListBegin() {
  next_.clear();
  changed_.clear();
}

const ObjectStore::Stored* ObjectStore::Unchanged(const std::string& key,
                                                  const std::string& version) const {
  auto it = cache_.find(key);
  return it != cache_.end() && it->second.version == version ? &it->second : nullptr;
}

void ObjectStore::Listed(const std::string& key, Stored stored, bool changed) {
  next_.emplace(key, std::move(stored));
  if (changed) changed_.push_back(key);
}

std::vector<ObjectStore::Change> ObjectStore::ListEnd(const std::string& list_version) {
  uint64_t listed = ResourceVersionNumber(list_version);
  for (auto& [key, stored] : cache_) {
    if (listed && ResourceVersionNumber(stored.version) > listed) next_[key] = stored;
  }
  std::vector<Change> changes;
  changes.reserve(changed_.size());
  for (const auto& key : changed_) {
    const Stored& after = next_.at(key);
    auto it = cache_.find(key);
    if (it != cache_.end() && it->second.version == after.version) continue;
    changes.push_back(
        {key, it == cache_.end() ? std::nullopt : std::optional<Stored>(it->second), after});
  }
  for (auto& [key, stored] : cache_) {
    if (!next_.count(key)) changes.push_back({key, stored, std::nullopt});
  }
  cache_ = std::move(next_);
  next_ = {};
  changed_.clear();
  delivered_version_ = std::max(delivered_version_, listed);
  return changes;
}

const ObjectStore::Stored* ObjectStore::Find(const std::string& key) const {
  auto it = cache_.find(key);
  return it == cache_.end() ? nullptr : &it->second;
}

}  // namespace kube
