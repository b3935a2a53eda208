#include "grpc-gateway/peer_address.h"

#include <boost/asio/ip/address.hpp>

namespace iarnet {

std::string PeerIp(std::string_view peer) {
  std::string_view rest;
  if (peer.rfind("ipv4:", 0) == 0) {
    rest = peer.substr(5);
    rest = rest.substr(0, rest.rfind(':'));
  } else if (peer.rfind("ipv6:", 0) == 0) {
    rest = peer.substr(5);
    if (rest.empty() || rest.front() != '[' || rest.find(']') == std::string_view::npos) return "";
    rest = rest.substr(1, rest.find(']') - 1);
    // gRPC escapes the zone separator of a scoped address as %25.
    if (auto zone = rest.find('%'); zone != std::string_view::npos) rest = rest.substr(0, zone);
  } else {
    return "";
  }
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(std::string(rest), ec);
  return ec ? "" : address.to_string();
}

std::optional<std::string> UnreachableFromPods(const std::string& ip) {
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(ip, ec);
  if (ec) return "not an IP address";
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6());
  }
  if (address.is_loopback()) return "a loopback address (the Pod itself)";
  if (address.is_unspecified()) return "the unspecified address";
  if (address.is_v6() && address.to_v6().is_link_local()) return "a link-local address";
  if (address.is_v4() && (address.to_v4().to_uint() >> 16) == 0xA9FE) {  // 169.254.0.0/16
    return "a link-local address";
  }
  return std::nullopt;
}

}  // namespace iarnet
