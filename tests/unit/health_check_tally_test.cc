#include "grpc-gateway/health_check_tally.h"

#include <catch2/catch.hpp>

using iarnet::HealthCheckTally;
using Lines = std::vector<std::string>;
using namespace std::chrono_literals;

TEST_CASE("health check tally: one summary per period, counts by caller, then start over") {
  HealthCheckTally t(60s);
  HealthCheckTally::Time t0{};
  CHECK(t.Lines(t0, "").empty());  // starts the period
  CHECK(t.Lines(t0 + 59s, "").empty());
  CHECK(t.Lines(t0 + 60s, "") ==
        Lines{"health checks in the last 60 s: none; no control plane connected"});

  t.Set("p.a");
  for (int i = 0; i < 12; ++i) t.Answered("p.a");
  t.Refused("p.b");
  t.Refused("p.b");
  CHECK(t.Lines(t0 + 100s, "p.a").empty());
  CHECK(t.Lines(t0 + 121s, "p.a") ==
        Lines{"health checks in the last 61 s: answered 12 from \"p.a\"; refused 2 from \"p.b\"; "
              "connected: \"p.a\""});
  // The counts started over.
  CHECK(t.Lines(t0 + 181s, "p.a") ==
        Lines{"health checks in the last 60 s: none; connected: \"p.a\""});
}

TEST_CASE("health check tally: says when the connected control plane goes silent or is replaced") {
  HealthCheckTally t(60s);
  HealthCheckTally::Time t0{};
  t.Lines(t0, "p.a");
  CHECK(t.Lines(t0 + 1s, "p.a").empty());
  CHECK(t.Lines(t0 + 2s, "") ==
        Lines{"control plane \"p.a\" is no longer connected: no health check within the timeout"});
  CHECK(t.Lines(t0 + 3s, "").empty());  // said once
  t.Set("p.b");                         // a Connect that logged its own line
  CHECK(t.Lines(t0 + 4s, "p.b").empty());
  CHECK(t.Lines(t0 + 5s, "p.c") == Lines{"control plane \"p.c\" took over from \"p.b\""});
  t.Set("");  // a Disconnect
  CHECK(t.Lines(t0 + 6s, "").empty());
}
