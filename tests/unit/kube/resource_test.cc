#include "kube/resource.h"

#include <catch2/catch.hpp>

#include "kube/error.h"
#include "kube/time_format.h"

using namespace kube;

TEST_CASE("paths for core and grouped and cluster-scoped and custom resources") {
  ResourceType iw{"iarnet.io", "v1alpha1", "iarnetworkloads", "IarnetWorkload", true};
  CHECK(CollectionPath(resources::kPods, "ns") == "/api/v1/namespaces/ns/pods");
  CHECK(CollectionPath(resources::kPods, "") == "/api/v1/pods");
  CHECK(CollectionPath(resources::kNodes, "ignored") == "/api/v1/nodes");
  CHECK(ObjectPath(resources::kLeases, "kube-system", "x") ==
        "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/x");
  CHECK(ObjectPath(iw, "a", "w", "status") ==
        "/apis/iarnet.io/v1alpha1/namespaces/a/iarnetworkloads/w/status");
  CHECK(ObjectPath(resources::kNodes, "", "n1") == "/api/v1/nodes/n1");
  CHECK_THROWS_AS(ObjectPath(resources::kPods, "", "p"), std::invalid_argument);
  CHECK_THROWS_AS(ObjectPath(resources::kPods, "ns", ""), std::invalid_argument);
  CHECK(ObjectPath(resources::kPods, "ns", "a/b c") == "/api/v1/namespaces/ns/pods/a%2Fb%20c");
}

TEST_CASE("list and watch queries") {
  ListOptions o;
  o.label_selector = "iarnet.managed=true,app in (a,b)";
  o.field_selector = "status.phase=Running";
  o.limit = 500;
  o.continue_token = "tok/+=";
  auto r = requests::List(resources::kPods, "ns", o);
  CHECK(r.method == "GET");
  CHECK(r.target ==
        "/api/v1/namespaces/ns/pods?labelSelector=iarnet.managed%3Dtrue%2Capp%20in%20%28a%2Cb%29"
        "&fieldSelector=status.phase%3DRunning&limit=500&continue=tok%2F%2B%3D");
  WatchOptions w;
  w.resource_version = "123";
  w.timeout_seconds = 300;
  CHECK(requests::Watch(resources::kPods, "", w).target ==
        "/api/v1/pods?watch=true&resourceVersion=123&allowWatchBookmarks=true&timeoutSeconds=300");
}

TEST_CASE("create and update and delete and patch requests") {
  json pod = {{"metadata", {{"name", "p"}, {"resourceVersion", "7"}}}};
  auto c = requests::Create(resources::kPods, "ns", pod);
  CHECK(c.method == "POST");
  CHECK(c.target == "/api/v1/namespaces/ns/pods");
  CHECK(json::parse(c.body) == pod);
  CHECK(c.what == "create pods ns/p");
  auto u = requests::Update(resources::kPods, "ns", pod, "status");
  CHECK(u.method == "PUT");
  CHECK(u.target == "/api/v1/namespaces/ns/pods/p/status");
  CHECK_THROWS_AS(requests::Update(resources::kPods, "ns", json::object()), std::invalid_argument);

  DeleteOptions d;
  d.propagation_policy = "Foreground";
  d.precondition_uid = "u1";
  d.precondition_resource_version = "9";
  auto del = requests::Delete(resources::kPods, "ns", "p", d);
  CHECK(del.method == "DELETE");
  CHECK(json::parse(del.body) ==
        json{{"kind", "DeleteOptions"},
             {"apiVersion", "v1"},
             {"propagationPolicy", "Foreground"},
             {"preconditions", {{"uid", "u1"}, {"resourceVersion", "9"}}}});

  PatchOptions apply;
  apply.field_manager = "iarnet";
  apply.force = true;
  apply.subresource = "status";
  auto p = requests::Patch(resources::kPods, "ns", "p", PatchType::kApply, "{}", apply);
  CHECK(p.content_type == "application/apply-patch+yaml");
  CHECK(p.target == "/api/v1/namespaces/ns/pods/p/status?fieldManager=iarnet&force=true");
  CHECK(requests::Patch(resources::kPods, "ns", "p", PatchType::kMerge, "{}").content_type ==
        "application/merge-patch+json");
  CHECK(requests::Patch(resources::kPods, "ns", "p", PatchType::kJson, "[]").content_type ==
        "application/json-patch+json");
  CHECK_THROWS_AS(requests::Patch(resources::kPods, "ns", "p", PatchType::kApply, "{}"),
                  std::invalid_argument);
}

TEST_CASE("API errors carry code and reason and message from the Status") {
  auto e = ApiErrorFromResponse(
      409,
      R"({"kind":"Status","status":"Failure","reason":"AlreadyExists","message":"pods \"p\" already exists","code":409})",
      "create pods ns/p");
  CHECK(e.kind() == ErrorKind::kApi);
  CHECK(e.code() == 409);
  CHECK(e.IsAlreadyExists());
  CHECK_FALSE(e.IsConflict());
  CHECK(std::string(e.what()) == "create pods ns/p: 409 AlreadyExists: pods \"p\" already exists");
  CHECK(ApiErrorFromResponse(409, R"({"kind":"Status","reason":"Conflict"})", "x").IsConflict());
  CHECK(ApiErrorFromResponse(404, "", "x").IsNotFound());
  CHECK(ApiErrorFromResponse(410, "", "x").IsGone());
  CHECK(ApiErrorFromResponse(410, "", "x").reason() == "Expired");
  CHECK(ApiErrorFromResponse(403, "", "x").IsForbidden());
  CHECK(ApiErrorFromResponse(422, "", "x").IsInvalid());
  CHECK(ApiErrorFromResponse(503, "not json", "x").IsTransient());
  CHECK_FALSE(ApiErrorFromResponse(400, "", "x").IsTransient());
  CHECK(std::string(ApiErrorFromResponse(500, "boom", "x").what()) == "x: 500 InternalError: boom");
}

TEST_CASE("RFC 3339 times") {
  auto t = ParseTime("2026-11-30T10:00:01.250000Z");
  REQUIRE(t);
  CHECK(FormatMicroTime(*t) == "2026-11-30T10:00:01.250000Z");
  CHECK(FormatTime(*t) == "2026-11-30T10:00:01Z");
  CHECK(ParseTime("2026-11-30T12:00:01+02:00") == ParseTime("2026-11-30T10:00:01Z"));
  CHECK_FALSE(ParseTime("2026-11-30 10:00:01").has_value());
  CHECK_FALSE(ParseTime("2026-11-30T10:00:01Zjunk").has_value());
}
