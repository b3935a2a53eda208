// The two custom resources as the Kubernetes client addresses them (crds/), named once
// for the controller, the gRPC front end, the tests and the benchmarks.
#pragma once

#include "kube/resource.h"

namespace iarnet {

inline const kube::ResourceType kWorkloadResource{"iarnet.io", "v1alpha1", "iarnetworkloads",
                                                  "IarnetWorkload", true};
inline const kube::ResourceType kProviderResource{"iarnet.io", "v1alpha1", "iarnetproviders",
                                                  "IarnetProvider", true};

}  // namespace iarnet
