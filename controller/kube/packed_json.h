// A compact, lossless encoding of JSON values for caches of thousands of objects of one
// kind. It is MessagePack's idea (a tag byte, then the value) plus a dictionary shared
// by every value packed with the same JsonPacker: object keys, and string values that
// recur under a key (kinds, namespaces, condition types and reasons, node names), are
// written once in the dictionary and referred to by number. Most of a cached Kubernetes
// object is such strings, so it packs to about a third of its MessagePack size.
//
// The dictionary only grows, and is bounded: a key whose values keep being new (names,
// uids, timestamps) stops having them added after kValuesPerKey, and nothing is added
// past kMaxEntries; what is not in the dictionary is written inline.
#pragma once

#include <cstdint>
#include <deque>
#include <nlohmann/json.hpp>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace kube {

class JsonPacker {
 public:
  static constexpr size_t kValuesPerKey = 32;
  static constexpr size_t kMaxEntries = 1 << 16;
  static constexpr size_t kMaxInternedLength = 64;  // longer strings are written inline

  // Both are safe to call from any thread. Values nest at most kMaxDepth deep.
  std::string Pack(const nlohmann::json& value);
  // Throws std::runtime_error when `bytes` did not come from this packer's Pack.
  nlohmann::json Unpack(std::string_view bytes) const;

  size_t dictionary_size() const;
  static constexpr int kMaxDepth = 512;

 private:
  class Writer;
  class Reader;
  // The dictionary id of `s` as a string seen under the key `context`, adding it when
  // the bounds allow; -1 when it is to be written inline. Called with mu_ held.
  int64_t Intern(std::string_view s, uint32_t context, bool is_key);

  mutable std::shared_mutex mu_;
  std::deque<std::string> strings_;  // id -> string; a deque never moves its elements
  std::unordered_map<std::string_view, uint32_t> ids_;  // views into strings_
  std::unordered_map<uint32_t, size_t> values_added_;   // key id -> values added under it
};

}  // namespace kube
