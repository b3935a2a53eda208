#include "grpc-gateway/strict_json.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/json_util.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>

#include "kube/text.h"

namespace iarnet {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using nlohmann::json;
using Problem = std::optional<std::string>;

struct TooDeep {};

// An integer in [lo, hi]: a JSON integer, or a string of decimal digits (the mapping
// writes 64-bit integers as strings).
bool IntegerIn(const json& v, long double lo, long double hi) {
  long double n;
  if (v.is_number_integer()) {
    n = v.is_number_unsigned() ? static_cast<long double>(v.get<uint64_t>())
                               : static_cast<long double>(v.get<int64_t>());
  } else if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    size_t digits = s.size() - (!s.empty() && s[0] == '-');
    if (digits == 0 || digits > 20 || s.find_first_not_of("0123456789", s[0] == '-') != s.npos)
      return false;
    n = std::stold(s);
  } else {
    return false;
  }
  return n >= lo && n <= hi;
}

Problem CheckMessage(const json& v, const Descriptor& d, const std::string& path);

// The field `key` names, by its JSON name or its proto name (both are accepted).
const FieldDescriptor* FieldNamed(const Descriptor& d, const std::string& key) {
  for (int i = 0; i < d.field_count(); ++i) {
    const FieldDescriptor* f = d.field(i);
    if (f->json_name() == key || f->name() == key) return f;
  }
  return nullptr;
}

Problem CheckValue(const json& v, const FieldDescriptor& f, const std::string& path) {
  auto wrong = [&](const std::string& expected) -> Problem {
    return path + " must be " + expected + ", not " + std::string(v.type_name());
  };
  using T = FieldDescriptor;
  switch (f.cpp_type()) {
    case T::CPPTYPE_INT32:
      if (IntegerIn(v, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()))
        return std::nullopt;
      return wrong("an integer in the int32 range");
    case T::CPPTYPE_INT64:
      if (IntegerIn(v, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()))
        return std::nullopt;
      return wrong("an integer in the int64 range");
    case T::CPPTYPE_UINT32:
      if (IntegerIn(v, 0, std::numeric_limits<uint32_t>::max())) return std::nullopt;
      return wrong("an integer in the uint32 range");
    case T::CPPTYPE_UINT64:
      if (IntegerIn(v, 0, std::numeric_limits<uint64_t>::max())) return std::nullopt;
      return wrong("an integer in the uint64 range");
    case T::CPPTYPE_DOUBLE:
    case T::CPPTYPE_FLOAT:
      if (v.is_number()) return std::nullopt;
      if (v.is_string() && (v == "NaN" || v == "Infinity" || v == "-Infinity")) return std::nullopt;
      return wrong("a number");
    case T::CPPTYPE_BOOL:
      return v.is_boolean() ? Problem{} : wrong("true or false");
    case T::CPPTYPE_STRING:
      return v.is_string() ? Problem{} : wrong("a string");
    case T::CPPTYPE_ENUM: {
      const auto* e = f.enum_type();
      if (v.is_string() && e->FindValueByName(v.get<std::string>())) return std::nullopt;
      if (v.is_number_integer() &&
          IntegerIn(v, std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max()))
        return std::nullopt;
      return wrong("one of " + e->full_name() + "'s names (or its number)");
    }
    case T::CPPTYPE_MESSAGE:
      return CheckMessage(v, *f.message_type(), path);
  }
  return wrong("a known type");
}

Problem CheckField(const json& v, const FieldDescriptor& f, const std::string& path) {
  if (v.is_null()) return std::nullopt;  // the mapping's "default value"
  if (f.is_map()) {
    if (!v.is_object()) return path + " must be an object, not " + std::string(v.type_name());
    const FieldDescriptor& value = *f.message_type()->map_value();
    const FieldDescriptor& key = *f.message_type()->map_key();
    for (const auto& [k, item] : v.items()) {
      std::string at = path + "[" + kube::Quoted(k) + "]";
      if (key.cpp_type() != FieldDescriptor::CPPTYPE_STRING) {
        if (auto p = CheckValue(json(k), key, at + " (key)")) return p;
      }
      if (item.is_null()) return at + " must not be null";
      if (auto p = CheckValue(item, value, at)) return p;
    }
    return std::nullopt;
  }
  if (f.is_repeated()) {
    if (!v.is_array()) return path + " must be an array, not " + std::string(v.type_name());
    for (size_t i = 0; i < v.size(); ++i) {
      std::string at = path + "[" + std::to_string(i) + "]";
      if (v[i].is_null()) return at + " must not be null";
      if (auto p = CheckValue(v[i], f, at)) return p;
    }
    return std::nullopt;
  }
  return CheckValue(v, f, path);
}

Problem CheckMessage(const json& v, const Descriptor& d, const std::string& path) {
  if (!v.is_object()) {
    return (path.empty() ? std::string("the body") : path) + " must be a JSON object (" +
           d.full_name() + "), not " + std::string(v.type_name());
  }
  for (const auto& [key, value] : v.items()) {
    const FieldDescriptor* f = FieldNamed(d, key);
    std::string at = path.empty() ? key : path + "." + key;
    if (!f) {
      return "unknown field " + kube::Quoted(path.empty() ? key : at) + " (" + d.full_name() +
             " has no such field)";
    }
    if (auto p = CheckField(value, *f, kube::EscapeText(at, 256))) return p;
  }
  return std::nullopt;
}

}  // namespace

std::variant<std::unique_ptr<google::protobuf::Message>, JsonInvalid> ParseJsonRequest(
    std::string_view body, const google::protobuf::Message& prototype) {
  const std::string type = prototype.GetTypeName();
  auto invalid = [&](const std::string& why) {
    return JsonInvalid{"the body is not a valid " + type + " in JSON: " + why};
  };
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) body = "{}";
  json doc;
  try {
    // The callback sees each value's depth as it is read: a deep body is refused at
    // kMaxJsonDepth, before the rest of it is built.
    doc = json::parse(body, [](int depth, json::parse_event_t, json&) {
      if (depth > kMaxJsonDepth) throw TooDeep{};
      return true;
    });
  } catch (const TooDeep&) {
    return invalid("it is nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  } catch (const json::parse_error& e) {
    // nlohmann's message quotes what it read: escaped and bounded here.
    return invalid(kube::EscapeText(e.what(), 512));
  }
  if (auto p = CheckMessage(doc, *prototype.GetDescriptor(), "")) return invalid(*p);
  std::unique_ptr<google::protobuf::Message> message(prototype.New());
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(
      doc.dump(-1, ' ', false, json::error_handler_t::replace), message.get(), options);
  if (!status.ok()) return invalid(kube::EscapeText(std::string(status.message()), 512));
  return message;
}

}  // namespace iarnet
