#include "grpc-gateway/connection.h"

#include "grpc-gateway/config.h"
#include "grpc-gateway/options.h"

#include <catch2/catch.hpp>

#include "kube/time_format.h"

using namespace iarnet;
using namespace std::chrono_literals;
using Code = ConnectionOutcome::Code;

namespace {
const SystemTime kT0 = std::chrono::sys_days{std::chrono::year{2026} / 11 / 30} + 12h;
ConnectionPolicy Policy() { return {90s, 10s}; }
ControlPlane At(const std::string& id, SystemTime t) {
  return {id, kube::FormatTime(t), kube::FormatTime(t), ""};
}
}  // namespace

TEST_CASE("connection: one control plane at a time and the same id reconnects") {
  auto first = DecideConnect({}, "provider.a", kT0, Policy());
  REQUIRE(first.ok);
  REQUIRE(first.write);
  CHECK(first.write->provider_id == "provider.a");
  ControlPlane cp = *first.write;
  auto other = DecideConnect(cp, "provider.b", kT0 + 5s, Policy());
  CHECK_FALSE(other.ok);
  CHECK(other.code == Code::kPermissionDenied);
  CHECK(other.error.find("provider.a") != std::string::npos);
  CHECK_FALSE(other.write);
  CHECK(DecideConnect(cp, "provider.a", kT0 + 5s, Policy()).ok);
  CHECK(DecideConnect(cp, "", kT0, Policy()).code == Code::kInvalidArgument);
}

TEST_CASE("connection: a silent control plane is forgotten after the timeout") {
  ControlPlane cp = At("provider.a", kT0);
  CHECK(ConnectedId(cp, kT0 + 90s, Policy()) == "provider.a");
  // The record keeps whole seconds: the check may have come as late as T0 + 0.999 s, so
  // the slot is not free before that plus the timeout.
  CHECK(ConnectedId(cp, kT0 + 90s + 900ms, Policy()) == "provider.a");
  CHECK(ConnectedId(cp, kT0 + 91s, Policy()).empty());
  auto taken = DecideConnect(cp, "provider.b", kT0 + 91s, Policy());
  CHECK(taken.ok);
  CHECK(taken.write->provider_id == "provider.b");
  // The old one's health check is refused now.
  ControlPlane now_b = *taken.write;
  auto refused = DecideHealthCheck(now_b, "provider.a", kT0 + 92s, Policy());
  CHECK_FALSE(refused.ok);
  CHECK(refused.code == Code::kPermissionDenied);
  CHECK(refused.error.rfind("unauthorized: provider_id mismatch", 0) == 0);
}

TEST_CASE("connection: health checks write at most once per interval") {
  ControlPlane cp = At("provider.a", kT0);
  auto soon = DecideHealthCheck(cp, "provider.a", kT0 + 3s, Policy());
  CHECK(soon.ok);
  CHECK_FALSE(soon.write);
  auto later = DecideHealthCheck(cp, "provider.a", kT0 + 10s, Policy());
  CHECK(later.ok);
  REQUIRE(later.write);
  CHECK(later.write->last_health_check == kube::FormatTime(kT0 + 10s));
  CHECK(later.write->connected_at == cp.connected_at);
  // A free slot is taken by the health check of a control plane that thinks it is
  // connected (after a provider outage longer than the timeout, say).
  auto free = DecideHealthCheck({}, "provider.c", kT0, Policy());
  CHECK(free.ok);
  REQUIRE(free.write);
  CHECK(free.write->provider_id == "provider.c");
}

TEST_CASE("connection: disconnect is idempotent and only the connected id frees the slot") {
  ControlPlane cp = At("provider.a", kT0);
  CHECK_FALSE(DecideDisconnect(cp, "provider.b", kT0, Policy()).ok);
  auto bye = DecideDisconnect(cp, "provider.a", kT0, Policy());
  CHECK(bye.ok);
  REQUIRE(bye.write);
  CHECK(bye.write->provider_id.empty());
  auto again = DecideDisconnect({}, "provider.a", kT0, Policy());
  CHECK(again.ok);
  CHECK_FALSE(again.write);
}

TEST_CASE("connection: other calls are refused only for a different connected id") {
  ControlPlane cp = At("provider.a", kT0);
  CHECK(Authorize(cp, "provider.a", kT0, Policy()).ok);
  CHECK(Authorize(cp, "", kT0, Policy()).ok);
  CHECK(Authorize({}, "provider.z", kT0, Policy()).ok);  // before Connect
  auto no = Authorize(cp, "provider.b", kT0, Policy());
  CHECK_FALSE(no.ok);
  CHECK(no.error ==
        "unauthorized: provider_id mismatch: connected to \"provider.a\", request from "
        "\"provider.b\"");
  CHECK(Authorize(cp, "provider.b", kT0 + 100s, Policy()).ok);  // expired
}

TEST_CASE("connection: provider ids with control characters never connect, and are quoted safely") {
  for (std::string id : {std::string("provider.a\nE1231 FORGED"), std::string("p\x1b[2J"),
                         std::string("p\0q", 3), std::string(254, 'p')}) {
    auto c = DecideConnect({}, id, kT0, Policy());
    CHECK_FALSE(c.ok);
    CHECK(c.code == ConnectionOutcome::Code::kInvalidArgument);
    CHECK(c.error.find('\n') == std::string::npos);
    CHECK_FALSE(c.write);
    CHECK_FALSE(DecideHealthCheck({}, id, kT0, Policy()).ok);
  }
  auto no = Authorize(At("provider.a", kT0), "p\n" + std::string(100000, 'x'), kT0, Policy());
  CHECK_FALSE(no.ok);
  CHECK(no.error.size() < 300);
  CHECK(no.error.find('\n') == std::string::npos);
}

TEST_CASE("connection: what the provider knows is the stored record or its own newer checks") {
  ControlPlane stored = At("provider.a", kT0);
  CHECK(Known(stored, std::nullopt) == stored);
  ControlPlane heard = At("provider.a", kT0 + 50s);
  CHECK(Known(stored, heard) == heard);  // the same control plane, heard since
  CHECK(Known(heard, stored) == heard);  // an older one changes nothing
  CHECK(Known(stored, At("provider.b", kT0 + 50s)) == stored);  // the cluster's record decides
  // Heard through an outage, the connection outlives the stored record's timeout.
  CHECK(ConnectedId(stored, kT0 + 100s, Policy()).empty());
  CHECK(ConnectedId(Known(stored, At("provider.a", kT0 + 60s)), kT0 + 100s, Policy()) ==
        "provider.a");
}

TEST_CASE("connection: a check that takes the expired slot keeps the address only for its id") {
  ControlPlane old = At("provider.a", kT0);
  old.address = "192.168.5.9";
  auto same = DecideHealthCheck(old, "provider.a", kT0 + 200s, Policy());
  REQUIRE(same.write);
  CHECK(same.write->address == "192.168.5.9");
  auto other = DecideHealthCheck(old, "provider.b", kT0 + 200s, Policy());
  REQUIRE(other.write);
  CHECK(other.write->address.empty());
  // A check within the session carries the record on, address included.
  ControlPlane live = At("provider.a", kT0);
  live.address = "192.168.5.9";
  auto later = DecideHealthCheck(live, "provider.a", kT0 + 30s, Policy());
  REQUIRE(later.write);
  CHECK(later.write->address == "192.168.5.9");
}

TEST_CASE("connection: takeover after two learned intervals plus the margin, within the bounds") {
  ConnectionPolicy p;  // timeout 90 s, floor 15 s, margin 5 s
  ControlPlane cp = At("provider.a", kT0);
  CHECK(SilenceAllowed(cp, p) == 90s);  // nothing measured yet
  // Connect's own check at once measures nothing; the next ones measure their gap.
  cp = Heard(cp, kT0 + 1s);
  CHECK(cp.health_check_interval_seconds == 0);
  cp = Heard(cp, kT0 + 1s + 30s);
  CHECK(cp.health_check_interval_seconds == 30);
  CHECK(SilenceAllowed(cp, p) == 65s);
  CHECK(ConnectedId(cp, kT0 + 31s + 65s, p) == "provider.a");
  CHECK(ConnectedId(cp, kT0 + 31s + 66s, p).empty());
  CHECK(DecideConnect(cp, "provider.b", kT0 + 31s + 64s, p).ok == false);
  CHECK(DecideConnect(cp, "provider.b", kT0 + 31s + 66s, p).ok);
  // A fast control plane: the floor holds; a gap rounds up to whole seconds.
  cp = Heard(cp, kT0 + 31s + 10ms);
  CHECK(cp.health_check_interval_seconds == 1);
  CHECK(SilenceAllowed(cp, p) == 15s);
  // A slow one: never past the timeout.
  cp = Heard(cp, kT0 + 31s + 10ms + 60s);
  CHECK(SilenceAllowed(cp, p) == 90s);
  // The learned interval travels with the stored record.
  auto checked =
      DecideHealthCheck(At("provider.a", kT0) /*just connected*/, "provider.a", kT0 + 20s, p);
  REQUIRE(checked.write);
  CHECK(checked.write->health_check_interval_seconds == 0);  // gap from Connect: not counted
}

TEST_CASE("connection: provider.takeover_floor from the config bounds the takeover") {
  auto parsed = iarnet::ParseConfig("provider: {takeover_floor: 20s}", "test.yaml");
  REQUIRE(std::holds_alternative<iarnet::Config>(parsed));
  ConnectionPolicy p = iarnet::ServiceOptionsFrom(std::get<iarnet::Config>(parsed)).connection;
  ControlPlane cp = At("provider.a", kT0);
  cp.health_check_interval_seconds = 1;  // 2 s + 5 s learned: the floor decides
  CHECK(SilenceAllowed(cp, p) == 20s);
  CHECK(ConnectedId(cp, kT0 + 20s, p) == "provider.a");
  CHECK(ConnectedId(cp, kT0 + 21s, p).empty());
}
