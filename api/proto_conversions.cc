#include "api/proto_conversions.h"

#include "common/types.pb.h"

namespace iarnet {

std::optional<Language> FromProto(int language) {
  switch (language) {
    case common::LANG_JSON:
      return Language::kJson;
    case common::LANG_GO:
      return Language::kGo;
    case common::LANG_PYTHON:
      return Language::kPython;
    case common::LANG_UNIKERNEL:
      return Language::kUnikernel;
    default:
      return std::nullopt;
  }
}

int ToProto(Language language) {
  switch (language) {
    case Language::kJson:
      return common::LANG_JSON;
    case Language::kGo:
      return common::LANG_GO;
    case Language::kPython:
      return common::LANG_PYTHON;
    case Language::kUnikernel:
      return common::LANG_UNIKERNEL;
  }
  return common::LANG_UNKNOWN;
}

}  // namespace iarnet
