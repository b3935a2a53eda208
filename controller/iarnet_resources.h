// The two custom resources as the Kubernetes client addresses them (crds/), named once
// for the controller, the gRPC front end, the tests and the benchmarks.
#pragma once

#include "api/vocabulary.h"
#include "kube/resource.h"

namespace iarnet {

inline const kube::ResourceType kWorkloadResource{kGroup, kVersion, kWorkloadPlural, kWorkloadKind,
                                                  true};
inline const kube::ResourceType kProviderResource{kGroup, kVersion, kProviderPlural, kProviderKind,
                                                  true};

}  // namespace iarnet
