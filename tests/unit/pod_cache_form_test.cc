#include "controller/pod_cache_form.h"

#include <catch2/catch.hpp>

#include "controller/usage.h"
#include "controller/workload_plan.h"

using iarnet::json;

namespace {

// A Pod as the API server returns it for a workload, defaults and all.
json FullPod() {
  return json::parse(R"({
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "w1", "namespace": "ns", "uid": "pod-uid", "resourceVersion": "77",
      "generation": 1, "creationTimestamp": "2026-11-30T10:00:00Z",
      "deletionTimestamp": "2026-11-30T10:05:00Z",
      "labels": {"iarnet.managed": "true", "iarnet.instance_id": "comp.1"},
      "annotations": {"iarnet.io/instance-id": "comp/1"},
      "ownerReferences": [{"apiVersion": "iarnet.io/v1alpha1", "kind": "IarnetWorkload",
        "name": "w1", "uid": "w-uid", "controller": true, "blockOwnerDeletion": true}],
      "managedFields": [{"manager": "x"}]},
    "spec": {"nodeName": "node-a", "restartPolicy": "Never", "dnsPolicy": "ClusterFirst",
      "serviceAccountName": "default",
      "volumes": [{"name": "kube-api-access", "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]}}],
      "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists"}],
      "containers": [{"name": "main", "image": "py:1", "env": [{"name": "A", "value": "b"}],
        "resources": {"limits": {"cpu": "500m", "memory": "64Mi", "nvidia.com/gpu": "1"},
                      "requests": {"cpu": "500m", "memory": "64Mi", "nvidia.com/gpu": "1"}},
        "volumeMounts": [{"name": "kube-api-access", "mountPath": "/var/run/secrets"}],
        "terminationMessagePath": "/dev/termination-log"}]},
    "status": {"phase": "Failed", "reason": "Evicted", "message": "low memory",
      "startTime": "2026-11-30T10:00:02Z", "hostIP": "10.0.0.1", "podIP": "10.88.0.5",
      "conditions": [{"type": "Ready", "status": "False"}, {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "0/3 nodes", "lastTransitionTime": "2026-12-01T10:00:00Z"}], "qosClass": "Guaranteed",
      "containerStatuses": [{"name": "main", "image": "py:1", "imageID": "sha256:x",
        "containerID": "containerd://abc", "ready": false, "restartCount": 0,
        "state": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}}]}
  })");
}

}  // namespace

TEST_CASE("the Pod cache's form: what the controller and the usage collector read is kept") {
  json full = FullPod();
  json kept = full;
  iarnet::KeepWhatThePodCacheNeeds(kept);
  CHECK(kept.dump().size() * 10 < full.dump().size() * 6);

  auto a = iarnet::ObservePod(full, "w-uid"), b = iarnet::ObservePod(kept, "w-uid");
  CHECK(a.owned == b.owned);
  CHECK(b.owned);
  CHECK(a.deleting == b.deleting);
  CHECK(a.phase == b.phase);
  CHECK(a.node_name == b.node_name);
  CHECK(a.start_time == b.start_time);
  CHECK(a.reason == b.reason);
  CHECK(a.message == b.message);
  CHECK(a.exit_code == b.exit_code);
  CHECK(a.terminated_reason == b.terminated_reason);
  CHECK(a.unschedulable == b.unschedulable);
  CHECK(a.unschedulable_since == b.unschedulable_since);
  CHECK(a.scheduler_message == b.scheduler_message);
  CHECK(b.unschedulable);
  CHECK(kept["status"]["conditions"].size() == 1);  // Ready is not read

  auto x = iarnet::AsOwnedPod(full), y = iarnet::AsOwnedPod(kept);
  REQUIRE(x);
  REQUIRE(y);
  CHECK(x->name == y->name);
  CHECK(x->instance_id == y->instance_id);
  CHECK(x->node == y->node);
  CHECK(x->running == y->running);
  CHECK(x->requests == y->requests);
  CHECK(kube::ObjectKey(kept) == "ns/w1");
  CHECK(kept["metadata"]["resourceVersion"] == "77");
  CHECK(kept["metadata"]["labels"] == full["metadata"]["labels"]);
  CHECK_FALSE(kept["spec"].contains("volumes"));
  CHECK_FALSE(kept["metadata"].contains("managedFields"));
}

TEST_CASE("the Pod cache's form: odd shapes are left alone, not crashed on") {
  json odd = json::parse(R"({"metadata": 3, "spec": {"containers": 5}, "status": []})");
  iarnet::KeepWhatThePodCacheNeeds(odd);
  CHECK(odd["metadata"] == 3);
  json not_object = json::array();
  iarnet::KeepWhatThePodCacheNeeds(not_object);
  CHECK(not_object.is_array());
}
