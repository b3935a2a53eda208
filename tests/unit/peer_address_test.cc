#include "grpc-gateway/peer_address.h"

#include <catch2/catch.hpp>

using iarnet::PeerIp;
using iarnet::UnreachableFromPods;

TEST_CASE("peer address: the IP of a gRPC peer string") {
  CHECK(PeerIp("ipv4:10.213.0.1:52344") == "10.213.0.1");
  CHECK(PeerIp("ipv6:[fd00::12]:50051") == "fd00::12");
  CHECK(PeerIp("ipv6:[fe80::1%25eth0]:50051") == "fe80::1");
  CHECK(PeerIp("ipv6:[::ffff:10.1.2.3]:1") == "::ffff:10.1.2.3");
  CHECK(PeerIp("unix:/tmp/sock").empty());
  CHECK(PeerIp("ipv4:not-an-ip:1").empty());
  CHECK(PeerIp("ipv6:fd00::12").empty());  // no brackets
  CHECK(PeerIp("").empty());
}

TEST_CASE("peer address: what component Pods cannot reach") {
  CHECK_FALSE(UnreachableFromPods("10.213.0.1"));
  CHECK_FALSE(UnreachableFromPods("192.168.5.9"));
  CHECK_FALSE(UnreachableFromPods("fd00::12"));
  CHECK(UnreachableFromPods("127.0.0.1") ==
        std::optional<std::string>("a loopback address (the Pod itself)"));
  CHECK(UnreachableFromPods("127.8.9.10"));
  CHECK(UnreachableFromPods("::1"));
  CHECK(UnreachableFromPods("::ffff:127.0.0.1"));  // mapped loopback
  CHECK_FALSE(UnreachableFromPods("::ffff:10.1.2.3"));
  CHECK(UnreachableFromPods("0.0.0.0"));
  CHECK(UnreachableFromPods("169.254.1.1") == std::optional<std::string>("a link-local address"));
  CHECK(UnreachableFromPods("fe80::1"));
  CHECK(UnreachableFromPods("nonsense") == std::optional<std::string>("not an IP address"));
}
