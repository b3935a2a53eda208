#include <catch2/catch.hpp>
#include <thread>

#include "kube/event_recorder.h"
#include "tests/support/support.h"

using namespace kube;
using testing::TestNamespace;

TEST_CASE("event recorder: events about an object with repeats aggregated by count") {
  auto c = testing::AdminClient();
  TestNamespace ns(*c);
  json cm = c->Create(resources::kConfigMaps, ns, testing::ConfigMap("subject"));
  EventRecorder recorder(*c, "iarnet-k8s-provider", "test");
  recorder.Normal(cm, "Admitted", "charged 100m");
  recorder.Normal(cm, "Admitted", "charged 100m");
  recorder.Normal(cm, "Admitted", "charged 100m");
  recorder.Warning(cm, "Rejected", "insufficient capacity");
  recorder.Flush();
  recorder.Normal(cm, "Admitted", "charged 100m");
  recorder.Flush();

  ListOptions o;
  o.field_selector = "involvedObject.uid=" + cm["metadata"]["uid"].get<std::string>();
  json events = c->List(resources::kEvents, ns, o)["items"];
  REQUIRE(events.size() == 2);
  std::map<std::string, json> by_reason;
  for (auto& e : events) by_reason[e["reason"]] = e;
  CHECK(by_reason["Admitted"]["count"] == 4);
  CHECK(by_reason["Admitted"]["type"] == "Normal");
  CHECK(by_reason["Admitted"]["message"] == "charged 100m");
  CHECK(by_reason["Admitted"]["source"]["component"] == "iarnet-k8s-provider");
  CHECK(by_reason["Admitted"]["involvedObject"]["kind"] == "ConfigMap");
  CHECK(by_reason["Rejected"]["count"] == 1);
  CHECK(by_reason["Rejected"]["type"] == "Warning");
}

TEST_CASE(
    "event recorder: series past the aggregation window are forgotten, so memory is bounded") {
  auto c = testing::AdminClient();
  TestNamespace ns(*c);
  json cm = c->Create(resources::kConfigMaps, ns, testing::ConfigMap("subject"));
  // The window is measured on a clock of the test's own: however slow the machine, the
  // first 1,500 are recorded within it, and then it has passed.
  auto now = std::chrono::system_clock::now();
  EventRecorder recorder(*c, "iarnet-k8s-provider", "test", std::chrono::seconds(2), 4096,
                         [&now] { return now; });
  // 1,500 distinct events (a long-running operator sees one per workload and reason).
  for (int i = 0; i < 1500; ++i) recorder.Normal(cm, "Admitted", "workload " + std::to_string(i));
  recorder.Flush();
  CHECK(recorder.series() == 1500);  // all within the window: all remembered
  now += std::chrono::milliseconds(2200);
  // Past the window: the next pass (when the map has doubled) drops the old series.
  for (int i = 0; i < 600; ++i) recorder.Normal(cm, "Admitted", "later " + std::to_string(i));
  recorder.Flush();
  CHECK(recorder.series() == 600);
  // A repeat within the window is still aggregated into one Event.
  recorder.Normal(cm, "Admitted", "later 0");
  recorder.Flush();
  ListOptions o;
  o.field_selector =
      "involvedObject.uid=" + cm["metadata"]["uid"].get<std::string>() + ",reason=Admitted";
  bool aggregated = false;
  json events = c->ListAll(resources::kEvents, ns, o);  // named: the loop must not outlive it
  for (auto& e : events["items"]) {
    if (e["message"] == "later 0") aggregated = e["count"] == 2;
  }
  CHECK(aggregated);
}

TEST_CASE("event recorder: past its cap it forgets the least recently recorded series") {
  auto c = testing::AdminClient();
  TestNamespace ns(*c);
  json cm = c->Create(resources::kConfigMaps, ns, testing::ConfigMap("subject"));
  EventRecorder recorder(*c, "iarnet-k8s-provider", "test", std::chrono::minutes(10), 100);
  for (int i = 0; i < 300; ++i) {
    recorder.Normal(cm, "Admitted", "workload " + std::to_string(i));
    if (i % 50 == 0) recorder.Flush();
  }
  recorder.Flush();
  CHECK(recorder.series() <= 100);
  CHECK(recorder.series() >= 75);
  // The most recent series is still remembered: its repeat is aggregated.
  recorder.Normal(cm, "Admitted", "workload 299");
  recorder.Flush();
  ListOptions o;
  o.field_selector =
      "involvedObject.uid=" + cm["metadata"]["uid"].get<std::string>() + ",reason=Admitted";
  json events = c->ListAll(resources::kEvents, ns, o);  // named: the loop must not outlive it
  CHECK(events["items"].size() == 300);
  bool aggregated = false;
  for (auto& e : events["items"]) {
    if (e["message"] == "workload 299") aggregated = e["count"] == 2;
  }
  CHECK(aggregated);
}
