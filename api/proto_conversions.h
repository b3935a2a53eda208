// Between the wire contract's messages (api/*.proto) and the resources' C++ types. Pure.
#pragma once

#include <optional>

#include "api/iarnet_types.h"

namespace iarnet {

// The protocol's language enum (common.Language) as ours; nullopt for LANG_UNKNOWN and
// numbers the protocol does not define.
std::optional<Language> FromProto(int language);
int ToProto(Language language);

}  // namespace iarnet
