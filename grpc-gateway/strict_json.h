// A request body in the protobuf JSON mapping, read strictly. Protobuf 3.21's own JSON
// parser accepts trailing commas and values of the wrong shape (`"tags": [["a"]]`), so a
// body that means something else than it says could still deploy. Here the body must be
// RFC 8259 JSON (valid UTF-8, no trailing commas), nested at most kMaxJsonDepth deep, and
// every field must be one of the message's (by JSON or proto name) with a value of its
// type; the message says which field is wrong. Pure.
#pragma once

#include <google/protobuf/message.h>

#include <memory>
#include <string>
#include <string_view>
#include <variant>

namespace iarnet {

inline constexpr int kMaxJsonDepth = 32;

struct JsonInvalid {
  std::string message;  // names the field (or the position) that is wrong
};

// A new message of `prototype`'s type read from `body` (an empty body is `{}`).
std::variant<std::unique_ptr<google::protobuf::Message>, JsonInvalid> ParseJsonRequest(
    std::string_view body, const google::protobuf::Message& prototype);

}  // namespace iarnet
