// The configuration (config.h) turned into each component's options, in one place. The
// configuration's defaults are Config's (documented in examples/config.yaml); the option
// structs' own initializers serve tests that build a component directly.
#pragma once

#include <memory>
#include <string>

#include "api/iarnet_types.h"
#include "controller/caches.h"
#include "controller/controller_options.h"
#include "controller/usage.h"
#include "grpc-gateway/config.h"
#include "grpc-gateway/http_server.h"
#include "grpc-gateway/provider_service.h"
#include "kube/leader_election.h"
#include "kube/transport.h"

namespace iarnet {

// The IarnetProvider the operator creates when there is none.
ProviderSpec ProviderSpecFrom(const Config& config);

kube::TransportOptions TransportOptionsFrom(const Config& config);
CachesOptions CachesOptionsFrom(const Config& config);
ControllerOptions ControllerOptionsFrom(const Config& config);
UsageOptions UsageOptionsFrom(const Config& config);
ServiceOptions ServiceOptionsFrom(const Config& config);
HttpServer::Options HttpOptionsFrom(const Config& config);
// The Lease and its timing; the callbacks are the caller's to set. `identity` names
// this replica.
kube::LeaderElector::Options ElectorOptionsFrom(const Config& config, const std::string& identity);

}  // namespace iarnet
