#include <catch2/catch.hpp>

#include "kube/event_recorder.h"
#include "support.h"

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
