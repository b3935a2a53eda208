#include "grpc-gateway/metrics.h"

#include <catch2/catch.hpp>

using iarnet::Metrics;

TEST_CASE("metrics: counters and gauges and histograms in the Prometheus text format") {
  Metrics m;
  m.Define("rpc_total", Metrics::Type::kCounter, "RPCs.");
  m.Define("depth", Metrics::Type::kGauge, "Depth.");
  m.Define("latency_seconds", Metrics::Type::kHistogram, "Latency.", {0.1, 1});
  m.Add("rpc_total", {{"method", "Deploy"}, {"code", "OK"}});
  m.Add("rpc_total", {{"method", "Deploy"}, {"code", "OK"}}, 2);
  m.Set("depth", {}, 7);
  m.Observe("latency_seconds", {{"method", "Deploy"}}, 0.05);
  m.Observe("latency_seconds", {{"method", "Deploy"}}, 0.5);
  m.Observe("latency_seconds", {{"method", "Deploy"}}, 5);
  m.AddCollector([](Metrics& self) { self.Set("depth", {}, 9); });
  std::string text = m.Render();
  CHECK(text ==
        "# HELP depth Depth.\n# TYPE depth gauge\ndepth 9\n"
        "# HELP latency_seconds Latency.\n# TYPE latency_seconds histogram\n"
        "latency_seconds_bucket{method=\"Deploy\",le=\"0.10000000000000001\"} 1\n"
        "latency_seconds_bucket{method=\"Deploy\",le=\"1\"} 2\n"
        "latency_seconds_bucket{method=\"Deploy\",le=\"+Inf\"} 3\n"
        "latency_seconds_sum{method=\"Deploy\"} 5.5499999999999998\n"
        "latency_seconds_count{method=\"Deploy\"} 3\n"
        "# HELP rpc_total RPCs.\n# TYPE rpc_total counter\n"
        "rpc_total{method=\"Deploy\",code=\"OK\"} 3\n");
  CHECK(m.Value("rpc_total", {{"method", "Deploy"}, {"code", "OK"}}) == 3);
  CHECK(m.Value("latency_seconds", {{"method", "Deploy"}}) == 3);
  CHECK_THROWS(m.Add("undefined", {}));
}

TEST_CASE("metrics: label values are escaped") {
  Metrics m;
  m.Define("x", Metrics::Type::kGauge, "X.");
  m.Set("x", {{"v", "a\"b\\c\nd"}}, 1);
  CHECK(m.Render().find("x{v=\"a\\\"b\\\\c\\nd\"} 1\n") != std::string::npos);
}
