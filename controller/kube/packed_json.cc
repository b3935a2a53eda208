#include "kube/packed_json.h"

#include <cstring>
#include <mutex>
#include <stdexcept>

namespace kube {
namespace {

using json = nlohmann::json;

// The tag byte in front of every value.
enum Tag : uint8_t {
  kNull,
  kFalse,
  kTrue,
  kInt,     // zigzag varint
  kUint,    // varint
  kDouble,  // 8 bytes, host order (the bytes never leave the process)
  kString,  // varint length, bytes
  kRef,     // varint dictionary id
  kArray,   // varint count, values
  kObject,  // varint count, then per member: key (varint id*2, or length*2+1 and the
            // bytes), value
};

// Strings at the top level and in arrays that are not under any key.
constexpr uint32_t kNoKey = UINT32_MAX;

}  // namespace

class JsonPacker::Writer {
 public:
  explicit Writer(JsonPacker& p) : p_(p) {}

  void Value(const json& v, uint32_t context, int depth) {
    if (depth > kMaxDepth) throw std::invalid_argument("packed json: nested too deep");
    switch (v.type()) {
      case json::value_t::null:
        Byte(kNull);
        return;
      case json::value_t::boolean:
        Byte(v.get<bool>() ? kTrue : kFalse);
        return;
      case json::value_t::number_integer: {
        int64_t i = v.get<int64_t>();
        Byte(kInt);
        Varint((uint64_t(i) << 1) ^ uint64_t(i >> 63));
        return;
      }
      case json::value_t::number_unsigned:
        Byte(kUint);
        Varint(v.get<uint64_t>());
        return;
      case json::value_t::number_float: {
        double d = v.get<double>();
        Byte(kDouble);
        char raw[sizeof d];
        std::memcpy(raw, &d, sizeof d);
        out_.append(raw, sizeof d);
        return;
      }
      case json::value_t::string: {
        const auto& s = v.get_ref<const std::string&>();
        int64_t id = p_.Intern(s, context, false);
        if (id >= 0) {
          Byte(kRef);
          Varint(uint64_t(id));
        } else {
          Byte(kString);
          Varint(s.size());
          out_ += s;
        }
        return;
      }
      case json::value_t::array:
        Byte(kArray);
        Varint(v.size());
        for (const auto& item : v) Value(item, context, depth + 1);
        return;
      case json::value_t::object:
        Byte(kObject);
        Varint(v.size());
        for (const auto& [key, item] : v.items()) {
          int64_t id = p_.Intern(key, 0, true);
          if (id >= 0) {
            Varint(uint64_t(id) << 1);
          } else {
            Varint((uint64_t(key.size()) << 1) | 1);
            out_ += key;
          }
          Value(item, id >= 0 ? uint32_t(id) : kNoKey, depth + 1);
        }
        return;
      case json::value_t::binary:
      case json::value_t::discarded:
        break;
    }
    throw std::invalid_argument("packed json: not a JSON value");
  }

  std::string Take() { return std::move(out_); }

 private:
  void Byte(uint8_t b) { out_.push_back(char(b)); }
  void Varint(uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(char(uint8_t(v) | 0x80));
      v >>= 7;
    }
    out_.push_back(char(v));
  }

  JsonPacker& p_;
  std::string out_;
};

class JsonPacker::Reader {
 public:
  Reader(const JsonPacker& p, std::string_view in) : p_(p), in_(in) {}

  json Value(int depth) {
    if (depth > kMaxDepth) Fail();
    switch (Byte()) {
      case kNull:
        return nullptr;
      case kFalse:
        return false;
      case kTrue:
        return true;
      case kInt: {
        uint64_t z = Varint();
        return int64_t(z >> 1) ^ -int64_t(z & 1);
      }
      case kUint:
        return Varint();
      case kDouble: {
        double d;
        std::memcpy(&d, Bytes(sizeof d).data(), sizeof d);
        return d;
      }
      case kString:
        return std::string(Bytes(Varint()));
      case kRef:
        return Entry(Varint());
      case kArray: {
        uint64_t n = Varint();
        if (n > in_.size()) Fail();  // each element takes at least a byte
        json a = json::array();
        auto& items = a.get_ref<json::array_t&>();
        items.reserve(n);
        for (uint64_t i = 0; i < n; ++i) items.push_back(Value(depth + 1));
        return a;
      }
      case kObject: {
        uint64_t n = Varint();
        if (n > in_.size()) Fail();
        json o = json::object();
        auto& members = o.get_ref<json::object_t&>();
        for (uint64_t i = 0; i < n; ++i) {
          uint64_t k = Varint();
          std::string key = (k & 1) ? std::string(Bytes(k >> 1)) : Entry(k >> 1);
          // Packed from a sorted map, so each key goes at the end.
          members.emplace_hint(members.end(), std::move(key), Value(depth + 1));
        }
        return o;
      }
      default:
        Fail();
    }
  }

  bool AtEnd() const { return in_.empty(); }

 private:
  [[noreturn]] static void Fail() {
    throw std::runtime_error("packed json: corrupt bytes (not from this packer)");
  }
  uint8_t Byte() {
    if (in_.empty()) Fail();
    uint8_t b = uint8_t(in_[0]);
    in_.remove_prefix(1);
    return b;
  }
  uint64_t Varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      uint8_t b = Byte();
      v |= uint64_t(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
    Fail();
  }
  std::string_view Bytes(uint64_t n) {
    if (n > in_.size()) Fail();
    std::string_view s = in_.substr(0, n);
    in_.remove_prefix(n);
    return s;
  }
  const std::string& Entry(uint64_t id) {
    if (id >= p_.strings_.size()) Fail();
    return p_.strings_[id];
  }

  const JsonPacker& p_;
  std::string_view in_;
};

int64_t JsonPacker::Intern(std::string_view s, uint32_t context, bool is_key) {
  if (s.size() > kMaxInternedLength) return -1;
  if (auto it = ids_.find(s); it != ids_.end()) return it->second;
  if (strings_.size() >= kMaxEntries) return -1;
  if (!is_key) {
    if (context == kNoKey) return -1;
    size_t& added = values_added_[context];
    if (added >= kValuesPerKey) return -1;  // this key's values do not recur: inline
    ++added;
  }
  uint32_t id = uint32_t(strings_.size());
  strings_.emplace_back(s);
  ids_.emplace(strings_.back(), id);
  return id;
}

std::string JsonPacker::Pack(const json& value) {
  std::unique_lock<std::shared_mutex> lock(mu_);
  Writer w(*this);
  w.Value(value, kNoKey, 0);
  return w.Take();
}

json JsonPacker::Unpack(std::string_view bytes) const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  Reader r(*this, bytes);
  json v = r.Value(0);
  if (!r.AtEnd()) throw std::runtime_error("packed json: trailing bytes");
  return v;
}

size_t JsonPacker::dictionary_size() const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  return strings_.size();
}

}  // namespace kube
