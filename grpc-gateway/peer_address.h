// Where a call came from, as the provider protocol's front doors see it: gRPC's peer
// string or the REST client's socket. Connect keeps the control plane's address so that
// host.internal in component Pods can point at it (PROTOCOL.md); an address Pods cannot
// reach (loopback, unspecified, link-local) is not kept. Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace iarnet {

// What a handler knows of its call besides the request.
struct CallContext {
  std::string peer_ip;  // "" when unknown (a Unix socket, a test)
};

// The IP of a gRPC peer ("ipv4:10.1.2.3:5000", "ipv6:[fd00::1]:5000"), or "" for any
// other form (unix:, unknown).
std::string PeerIp(std::string_view grpc_peer);

// Why a Pod could not reach `ip`, or nullopt when it can be tried. An IPv4-mapped IPv6
// address is judged as the IPv4 address it carries.
std::optional<std::string> UnreachableFromPods(const std::string& ip);

}  // namespace iarnet
