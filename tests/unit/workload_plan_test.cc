#include "controller/workload_plan.h"

#include <catch2/catch.hpp>
#include <functional>

#include "kube/time_format.h"

using namespace iarnet;

namespace {

struct Fixture {
  Workload w;
  PodObservation pod;
  ProviderSpec provider;
  Ledger ledger;
  Fixture() {
    w.metadata.name = "w1";
    w.metadata.namespace_ = "ns";
    w.metadata.uid = "uid-1";
    w.metadata.generation = 2;
    w.metadata.finalizers = {kReleaseFinalizer};
    w.spec.instance_id = "comp.1";
    w.spec.language = Language::kPython;
    w.spec.resources = {500, 256LL << 20, 1};
    w.spec.env = {{"COMPONENT_ID", "comp.1"}};
    provider.capacity = {1000, 1LL << 30, 1};
    provider.languages = {{Language::kPython, "py:1"}};
    provider.host_aliases = {{"10.1.2.3", {"host.internal"}}};
    ledger = ComputeLedger(provider.capacity, {});
  }
  std::string now = "2026-11-30T10:00:00Z";
  std::chrono::milliseconds image_pull_timeout{0};
  std::chrono::milliseconds interrupted_deploy_after{0};
  std::chrono::milliseconds orphan_grace{0};
  std::optional<std::string> connected;
  std::optional<NodeFitInput> fit;
  std::chrono::milliseconds schedule_timeout{0};
  NodeHealth node;
  std::chrono::milliseconds node_lost_grace{0};
  WorkloadPlan Run() {
    PlanInputs in{w, pod, provider, ledger, "provider", now};
    if (fit) in.fit = &*fit;
    in.schedule_timeout = schedule_timeout;
    in.node = node;
    in.node_lost_grace = node_lost_grace;
    in.image_pull_timeout = image_pull_timeout;
    in.interrupted_deploy_after = interrupted_deploy_after;
    in.orphan_grace = orphan_grace;
    in.connected_provider_id = connected;
    return Plan(in);
  }
  // Applies a plan's status as the API server would.
  void Apply(const WorkloadPlan& p) {
    if (p.status) w.status = *p.status;
    if (p.add_finalizer) w.metadata.finalizers.push_back(kReleaseFinalizer);
    if (p.remove_finalizer) w.metadata.finalizers.clear();
  }
  void Admit() {
    Apply(Run());
    REQUIRE(w.status.admission);
  }
  // Admitted, its Pod created and Running, and the status mirroring it.
  void Running() {
    Admit();
    Apply(Run());
    RunningPod();
    Apply(Run());
  }
  void RunningPod() {
    pod.exists = true;
    pod.owned = true;
    pod.phase = "Running";
    pod.node_name = "node-a";
    pod.start_time = "2026-11-30T10:00:02Z";
  }
};

// Whether `f`, changed by `change`, is planned without deleting the workload.
bool Kept(const Fixture& f, const std::function<void(Fixture&)>& change) {
  Fixture g = f;
  change(g);
  return !g.Run().delete_workload;
}

}  // namespace

TEST_CASE("plan: the finalizer comes before any charge") {
  Fixture f;
  f.w.metadata.finalizers.clear();
  auto p = f.Run();
  CHECK(p.add_finalizer);
  CHECK_FALSE(p.status);
  CHECK_FALSE(p.create_pod);
}

TEST_CASE("plan: admission records the charge and then the Pod is created") {
  Fixture f;
  auto p = f.Run();
  REQUIRE(p.status);
  REQUIRE(p.status->admission);
  CHECK(p.status->admission->charged == Resources{500, 256LL << 20, 1});
  CHECK(p.status->admission->provider == "provider");
  CHECK(p.status->phase == Phase::kAdmitted);
  CHECK(p.status->observed_generation == 2);
  CHECK(p.events ==
        std::vector<Event>{{"Normal", "Admitted", "admitted cpu 500m, memory 256Mi, gpu 1"}});
  CHECK_FALSE(p.create_pod);  // only after the charge is stored
  f.Apply(p);
  auto next = f.Run();
  CHECK(next.create_pod);
  CHECK_FALSE(next.status);  // the Pod's name is recorded once the Pod is seen
  CHECK(next.events.empty());
  CHECK(f.Run().create_pod);  // not seen yet: creating again is what it takes (AlreadyExists)

  // Seen on its way (no waiting reason yet): nothing worth a write.
  f.pod.exists = f.pod.owned = true;
  f.pod.phase = "Pending";
  f.pod.node_name = "node-a";
  CHECK(f.Run().Empty());
  // Running: its name, node and progress in one write.
  f.pod.phase = "Running";
  auto running = f.Run();
  REQUIRE(running.status);
  CHECK(running.status->pod_name == "w1");
  CHECK(running.status->node_name == "node-a");
  CHECK(running.status->phase == Phase::kRunning);
}

TEST_CASE("plan: a Pod deleted before it was ever seen is created again") {
  Fixture f;
  f.Admit();
  CHECK(f.Run().create_pod);
  // The Pod never showed up as ours (deleted at once): the status names no Pod, so
  // this is not "deleted by someone else", and the charge still holds.
  auto again = f.Run();
  CHECK(again.create_pod);
  CHECK_FALSE(again.status);
}

TEST_CASE("plan: rejection says what was asked and what was free and is not repeated") {
  Fixture f;
  f.ledger = ComputeLedger(f.provider.capacity, {{800, 0, 0}});
  auto p = f.Run();
  REQUIRE(p.status);
  CHECK(p.status->phase == Phase::kRejected);
  CHECK_FALSE(p.status->admission);
  CHECK(p.status->reason == "InsufficientCapacity");
  CHECK(p.status->message ==
        "insufficient capacity: requested cpu 500m, memory 256Mi, gpu 1; available cpu 200m, "
        "memory 1Gi, "
        "gpu 1 of cpu 1, memory 1Gi, gpu 1");
  REQUIRE(p.status->conditions.size() == 1);
  CHECK(p.status->conditions[0].status == "False");
  CHECK(p.status->conditions[0].reason == "InsufficientCapacity");
  CHECK(p.events.size() == 1);
  f.Apply(p);
  CHECK(f.Run().Empty());  // idempotent: same observation, nothing to do
  // Other numbers, the same reason: the record stands (no write, no Event), or every
  // waiting workload would be rewritten each time the totals move.
  f.ledger = ComputeLedger(f.provider.capacity, {{900, 0, 0}});
  CHECK(f.Run().Empty());
  // An edited spec is looked at afresh: a new record for the new generation.
  f.w.metadata.generation = 3;
  auto edited = f.Run();
  REQUIRE(edited.status);
  CHECK(edited.status->observed_generation == 3);
  CHECK(edited.status->message.find("available cpu 100m") != std::string::npos);
  CHECK(edited.events.size() == 1);
  f.Apply(edited);
  // Capacity frees up: the same workload is admitted.
  f.ledger = ComputeLedger(f.provider.capacity, {});
  auto later = f.Run();
  REQUIRE(later.status);
  CHECK(later.status->phase == Phase::kAdmitted);
}

TEST_CASE("plan: a rejection for another reason replaces the record") {
  Fixture f;
  f.ledger = ComputeLedger(f.provider.capacity, {{800, 0, 0}});
  f.Apply(f.Run());
  REQUIRE(f.w.status.reason == "InsufficientCapacity");
  f.w.spec.language = Language::kUnikernel;                  // as a spec edit would
  f.w.metadata.generation = f.w.status.observed_generation;  // even without a new generation
  auto p = f.Run();
  REQUIRE(p.status);
  CHECK(p.status->reason == "UnsupportedLanguage");
  CHECK(p.events.size() == 1);
}

TEST_CASE("plan: an unsupported language is rejected and nothing is charged") {
  Fixture f;
  f.w.spec.language = Language::kUnikernel;
  auto p = f.Run();
  REQUIRE(p.status);
  CHECK(p.status->phase == Phase::kRejected);
  CHECK(p.status->reason == "UnsupportedLanguage");
  CHECK(p.status->message == "unsupported language \"unikernel\": this provider runs python");
  CHECK_FALSE(p.status->admission);
}

TEST_CASE("plan: the Pod's progress is mirrored and a steady state plans nothing") {
  Fixture f;
  f.Admit();
  f.Apply(f.Run());  // pod created
  f.pod.exists = true;
  f.pod.owned = true;
  f.pod.phase = "Pending";
  f.pod.waiting_reason = "ErrImagePull";
  f.pod.waiting_message = "pull access denied";
  auto pending = f.Run();
  REQUIRE(pending.status);
  CHECK(pending.status->phase == Phase::kAdmitted);
  CHECK(pending.status->reason == "ErrImagePull");
  CHECK(pending.status->message == "pull access denied");
  f.Apply(pending);
  f.pod = {};
  f.RunningPod();
  auto running = f.Run();
  REQUIRE(running.status);
  CHECK(running.status->phase == Phase::kRunning);
  CHECK(running.status->node_name == "node-a");
  CHECK(running.status->start_time == "2026-11-30T10:00:02Z");
  CHECK(running.status->admission);  // still charged
  f.Apply(running);
  CHECK(f.Run().Empty());
}

TEST_CASE("plan: an image that cannot be pulled is given up after the timeout") {
  Fixture f;
  f.image_pull_timeout = std::chrono::seconds(30);
  f.Admit();  // admitted at 10:00:00
  f.Apply(f.Run());
  f.pod.exists = true;
  f.pod.owned = true;
  f.pod.phase = "Pending";
  f.pod.node_name = "node-a";
  f.pod.waiting_reason = "ImagePullBackOff";
  f.pod.waiting_message = "Back-off pulling image \"nope:1\"";

  f.now = "2026-11-30T10:00:10Z";
  auto waiting = f.Run();
  REQUIRE(waiting.status);
  CHECK(waiting.status->reason == "ImagePullBackOff");
  CHECK(waiting.status->admission);  // still charged while the deadline is ahead
  CHECK_FALSE(waiting.delete_pod);
  CHECK(waiting.requeue_after == std::chrono::milliseconds(20000));  // look again then
  f.Apply(waiting);

  f.now = "2026-11-30T10:00:30Z";
  auto given_up = f.Run();
  REQUIRE(given_up.status);
  CHECK(given_up.status->phase == Phase::kFailed);
  CHECK(given_up.status->reason == "ImagePullBackOff");
  CHECK(given_up.status->message ==
        "the image could not be pulled within 30s: Back-off pulling image \"nope:1\"");
  CHECK_FALSE(given_up.status->admission);  // capacity returns
  CHECK(given_up.delete_pod);               // the kubelet would keep pulling
  REQUIRE(given_up.events.size() == 1);
  CHECK(given_up.events[0].type == "Warning");
  f.Apply(given_up);
  f.pod.deleting = true;
  CHECK(f.Run().Empty());  // ended: nothing more, even while the Pod goes

  SECTION("other waiting reasons have no deadline") {
    Fixture g;
    g.image_pull_timeout = std::chrono::seconds(30);
    g.Admit();
    g.Apply(g.Run());
    g.pod.exists = g.pod.owned = true;
    g.pod.phase = "Pending";
    g.pod.waiting_reason = "ContainerCreating";
    g.now = "2026-11-30T11:00:00Z";
    auto p = g.Run();
    CHECK_FALSE(p.requeue_after);
    CHECK_FALSE(p.delete_pod);
    REQUIRE(p.status);
    CHECK(p.status->admission);
  }
  SECTION("timeout 0 never gives up") {
    f.w.status = waiting.status.value();
    f.pod.deleting = false;
    f.image_pull_timeout = std::chrono::milliseconds(0);
    f.now = "2026-12-30T10:00:00Z";
    auto p = f.Run();
    CHECK_FALSE(p.delete_pod);
    CHECK_FALSE(p.requeue_after);
  }
}

TEST_CASE("plan: a Pod that ends releases the charge and says why") {
  Fixture f;
  f.Running();

  SECTION("succeeded") {
    f.pod.phase = "Succeeded";
    f.pod.exit_code = 0;
    auto p = f.Run();
    REQUIRE(p.status);
    CHECK(p.status->phase == Phase::kSucceeded);
    CHECK(p.status->reason == "PodSucceeded");
    CHECK_FALSE(p.status->admission);
    CHECK(p.status->exit_code == 0);
    f.Apply(p);
    CHECK(f.Run().Empty());  // ended workloads stay ended, uncharged
  }
  SECTION("OOM killed") {
    f.pod.phase = "Failed";
    f.pod.exit_code = 137;
    f.pod.terminated_reason = "OOMKilled";
    auto p = f.Run();
    REQUIRE(p.status);
    CHECK(p.status->phase == Phase::kFailed);
    CHECK(p.status->reason == "OOMKilled");
    CHECK(p.status->message == "the component failed (exit code 137)");
    CHECK(p.status->exit_code == 137);
    CHECK_FALSE(p.status->admission);
    CHECK(p.events[0].type == "Warning");
  }
  SECTION("evicted") {
    f.pod.phase = "Failed";
    f.pod.reason = "Evicted";
    f.pod.message = "The node was low on resource: memory.";
    auto p = f.Run();
    REQUIRE(p.status);
    CHECK(p.status->reason == "Evicted");
    CHECK(p.status->message == "the component failed: The node was low on resource: memory.");
  }
  SECTION("deleted by someone else: released and not recreated") {
    f.pod = {};
    auto p = f.Run();
    CHECK_FALSE(p.create_pod);
    REQUIRE(p.status);
    CHECK(p.status->phase == Phase::kFailed);
    CHECK(p.status->reason == "PodDeleted");
    CHECK_FALSE(p.status->admission);
  }
}

TEST_CASE("plan: deleting a workload deletes the Pod then releases then drops the finalizer") {
  Fixture f;
  f.Running();
  f.w.metadata.deleting = true;
  auto p1 = f.Run();
  CHECK(p1.delete_pod);
  CHECK_FALSE(p1.status);
  CHECK_FALSE(p1.remove_finalizer);
  f.pod.deleting = true;
  CHECK(f.Run().Empty());  // wait for the Pod to go
  f.pod = {};
  auto p2 = f.Run();
  REQUIRE(p2.status);
  CHECK_FALSE(p2.status->admission);
  CHECK_FALSE(p2.remove_finalizer);  // the release is stored first
  f.Apply(p2);
  auto p3 = f.Run();
  CHECK(p3.remove_finalizer);
  CHECK_FALSE(p3.status);
}

TEST_CASE("plan: a foreign Pod with the workload's name is not adopted") {
  Fixture f;
  f.Admit();
  f.pod.exists = true;
  f.pod.owned = false;
  f.pod.phase = "Running";
  auto p = f.Run();
  CHECK_FALSE(p.create_pod);
  CHECK_FALSE(p.delete_pod);
  REQUIRE(p.status);
  CHECK(p.status->reason == "PodNameTaken");
  CHECK(p.status->admission);
}

TEST_CASE("BuildPod: owner, labels, one container with env and limits, host aliases") {
  Fixture f;
  json pod = BuildPod(f.w, f.provider, "py:1", "provider.abc");
  CHECK(pod["metadata"]["name"] == "w1");
  CHECK(pod["metadata"]["namespace"] == "ns");
  CHECK(pod["metadata"]["labels"] == json{{"iarnet.managed", "true"},
                                          {"iarnet.provider_id", "provider.abc"},
                                          {"iarnet.instance_id", "comp.1"}});
  const json& ref = pod["metadata"]["ownerReferences"][0];
  CHECK(ref["uid"] == "uid-1");
  CHECK(ref["controller"] == true);
  CHECK(ref["kind"] == "IarnetWorkload");
  CHECK(pod["spec"]["restartPolicy"] == "Never");
  REQUIRE(pod["spec"]["containers"].size() == 1);
  const json& c = pod["spec"]["containers"][0];
  CHECK(c["name"] == "main");
  CHECK(c["image"] == "py:1");
  CHECK(c["env"] == json::array({{{"name", "COMPONENT_ID"}, {"value", "comp.1"}}}));
  json q = {{"cpu", "500m"}, {"memory", "268435456"}, {"nvidia.com/gpu", "1"}};
  CHECK(c["resources"]["requests"] == q);
  CHECK(c["resources"]["limits"] == q);
  CHECK(pod["spec"]["hostAliases"] ==
        json::array({{{"ip", "10.1.2.3"}, {"hostnames", {"host.internal"}}}}));
  f.w.spec.resources.gpu = 0;
  CHECK_FALSE(BuildPod(f.w, f.provider, "py:1", "p")["spec"]["containers"][0]["resources"]["limits"]
                  .contains("nvidia.com/gpu"));
}

TEST_CASE("ObservePod reads ownership, phase and the main container's state") {
  json pod = json::parse(R"({
    "metadata": {"ownerReferences": [{"apiVersion": "iarnet.io/v1alpha1", "kind": "IarnetWorkload",
                                      "uid": "uid-1", "controller": true}],
                 "deletionTimestamp": "2026-11-30T10:00:00Z"},
    "spec": {"nodeName": "n1"},
    "status": {"phase": "Failed", "reason": "Evicted", "startTime": "t",
               "containerStatuses": [{"name": "main",
                 "state": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}}]}
  })");
  PodObservation o = ObservePod(pod, "uid-1");
  CHECK(o.exists);
  CHECK(o.owned);
  CHECK(o.deleting);
  CHECK(o.phase == "Failed");
  CHECK(o.node_name == "n1");
  CHECK(o.reason == "Evicted");
  CHECK(o.exit_code == 137);
  CHECK(o.terminated_reason == "OOMKilled");
  CHECK_FALSE(ObservePod(pod, "other").owned);
}

TEST_CASE("plan: a Pod the API server refuses as invalid fails the workload and releases it") {
  Fixture f;
  f.Apply(f.Run());  // admitted
  REQUIRE(f.w.status.admission);
  REQUIRE(f.Run().create_pod);
  auto p = PodRefused(f.w, "Pod \"w1\" is invalid: spec.containers[0].image: Invalid value", f.now);
  REQUIRE(p.status);
  CHECK_FALSE(p.status->admission);  // the charge is released
  CHECK(p.status->phase == Phase::kFailed);
  CHECK(p.status->reason == "PodInvalid");
  CHECK(p.status->message ==
        "the API server refused the Pod: Pod \"w1\" is invalid: spec.containers[0].image: "
        "Invalid value");
  CHECK_FALSE(p.create_pod);
  REQUIRE(p.events.size() == 1);
  CHECK(p.events[0].type == "Warning");
  CHECK(p.events[0].reason == "PodInvalid");
  f.Apply(p);
  // Ended: the Pod is not tried again.
  CHECK_FALSE(f.Run().create_pod);
}

TEST_CASE("plan: a Deploy's rejected workload stays rejected, a kubectl one waits for capacity") {
  Fixture f;
  f.w.spec.resources = {2000, 256LL << 20, 0};  // more than the capacity
  auto rejected = f.Run();
  REQUIRE(rejected.status);
  CHECK(rejected.status->phase == Phase::kRejected);
  f.Apply(rejected);
  f.w.spec.resources = {500, 256LL << 20, 0};  // as if capacity had freed up for it
  // Applied with kubectl (no annotation): admitted once it fits.
  auto admitted = f.Run();
  REQUIRE(admitted.status);
  CHECK(admitted.status->admission);
  // Created by a Deploy: the control plane was told it failed; it never runs.
  f.w.metadata.annotations = {{"iarnet.io/created-by", "grpc"}};
  CHECK(f.Run().Empty());
  CHECK_FALSE(f.Run().status);
}

TEST_CASE("host aliases: host.internal maps to the control plane unless configured") {
  ProviderSpec provider;
  CHECK(HostAliasesFor(provider, "").empty());
  CHECK(HostAliasesFor(provider, "192.168.5.9") ==
        std::vector<HostAlias>{{"192.168.5.9", {"host.internal"}}});
  // Other configured aliases stay, and the control plane's is added.
  provider.host_aliases = {{"10.0.0.7", {"registry.local"}}};
  CHECK(
      HostAliasesFor(provider, "192.168.5.9") ==
      std::vector<HostAlias>{{"10.0.0.7", {"registry.local"}}, {"192.168.5.9", {"host.internal"}}});
  // A configured host.internal always wins.
  provider.host_aliases = {{"10.0.0.8", {"other", "host.internal"}}};
  CHECK(MapsHostInternal(provider.host_aliases));
  CHECK(HostAliasesFor(provider, "192.168.5.9") == provider.host_aliases);
  Fixture f;
  f.provider.host_aliases.clear();
  CHECK(BuildPod(f.w, f.provider, "py:1", "p", "192.168.5.9")["spec"]["hostAliases"] ==
        json::array({{{"ip", "192.168.5.9"}, {"hostnames", {"host.internal"}}}}));
  CHECK_FALSE(BuildPod(f.w, f.provider, "py:1", "p")["spec"].contains("hostAliases"));
}

TEST_CASE(
    "plan: a Deploy's workload whose Deploy never answered is deleted once it must have "
    "ended") {
  Fixture f;
  f.interrupted_deploy_after = std::chrono::seconds(70);
  f.w.metadata.created = "2026-11-30T10:00:00Z";
  f.w.metadata.annotations = {{kCreatedByAnnotation, "grpc"}, {kDeployAnnotation, kDeployPending}};
  // Before the deadline it is planned as any other, and looked at again at the deadline.
  f.now = "2026-11-30T10:00:20Z";
  auto p = f.Run();
  CHECK_FALSE(p.delete_workload);
  REQUIRE(p.status);
  CHECK(p.status->admission);
  REQUIRE(p.requeue_after);
  CHECK(*p.requeue_after == std::chrono::seconds(50));
  f.Apply(p);
  // At the deadline: deleted, whatever it runs, and said so.
  f.now = "2026-11-30T10:01:10Z";
  p = f.Run();
  CHECK(p.delete_workload);
  CHECK_FALSE(p.status);
  REQUIRE(p.events.size() == 1);
  CHECK(p.events[0].reason == "DeployInterrupted");

  // Never: once its Deploy answered, for a workload kubectl or GitOps applied, for one
  // from before the annotation existed, when the rule is off, or once being deleted
  // (the deletion then releases it as usual).
  CHECK(Kept(f, [](Fixture& g) { g.w.metadata.annotations[kDeployAnnotation] = kDeployAnswered; }));
  CHECK(Kept(f, [](Fixture& g) { g.w.metadata.annotations = json::object(); }));
  CHECK(Kept(f, [](Fixture& g) { g.w.metadata.annotations.erase(kDeployAnnotation); }));
  CHECK(Kept(f, [](Fixture& g) { g.interrupted_deploy_after = std::chrono::milliseconds(0); }));
  CHECK(Kept(f, [](Fixture& g) { g.w.metadata.deleting = true; }));
  CHECK(Kept(f, [](Fixture& g) { g.w.metadata.created = "yesterday"; }));
}

TEST_CASE(
    "plan: a Deploy's workload whose control-plane session ended is stamped, then deleted "
    "after the grace unless the session comes back") {
  Fixture f;
  f.Running();
  f.w.metadata.annotations = {{kCreatedByAnnotation, "grpc"}, {kDeployAnnotation, kDeployAnswered}};
  f.w.spec.provider_id = "provider.a";
  f.orphan_grace = std::chrono::minutes(10);
  // Connected: nothing to do.
  f.connected = "provider.a";
  CHECK(f.Run().Empty());
  // Another id took over (or nobody is connected): stamped once, with an event, and looked
  // at again when the grace ends.
  for (std::string other : {"provider.b", ""}) {
    Fixture g = f;
    g.connected = other;
    auto p = g.Run();
    REQUIRE(p.status);
    CHECK(p.status->orphaned_at == g.now);
    CHECK(p.status->admission);  // still charged, still running
    CHECK_FALSE(p.delete_workload);
    REQUIRE(p.requeue_after);
    CHECK(*p.requeue_after == std::chrono::minutes(10));
    REQUIRE(p.events.size() == 1);
    CHECK(p.events[0].reason == "Orphaned");
  }
  f.connected = "provider.b";
  f.Apply(f.Run());
  CHECK(f.Run().status == std::nullopt);  // stamped once
  // Back before the grace ends: the stamp goes.
  {
    Fixture g = f;
    g.connected = "provider.a";
    g.now = "2026-11-30T10:09:00Z";
    auto p = g.Run();
    REQUIRE(p.status);
    CHECK(p.status->orphaned_at.empty());
    CHECK_FALSE(p.delete_workload);
  }
  // Still gone when it ends: deleted.
  f.now = "2026-11-30T10:10:00Z";
  auto p = f.Run();
  CHECK(p.delete_workload);
  REQUIRE(p.events.size() == 1);
  CHECK(p.events[0].reason == "OrphanDeleted");

  // Never: a workload kubectl or GitOps applied, one with no provider id, the policy keep
  // (grace 0), or when who is connected is not known.
  CHECK(Kept(f, [](Fixture& g) { g.w.metadata.annotations = json::object(); }));
  CHECK(Kept(f, [](Fixture& g) { g.w.spec.provider_id.clear(); }));
  CHECK(Kept(f, [](Fixture& g) { g.orphan_grace = std::chrono::milliseconds(0); }));
  CHECK(Kept(f, [](Fixture& g) { g.connected.reset(); }));
}

namespace {
std::chrono::system_clock::time_point At(const char* text) { return *kube::ParseTime(text); }
}  // namespace

TEST_CASE("plan: admission needs a node that holds the whole request (NoNodeFits)") {
  Fixture f;
  f.w.spec.resources = {600, 1LL << 20, 0};
  // The ledger has room (1000m), but the nodes have 500m each.
  f.fit =
      NodeFitInput{{{"a", {500, 1LL << 30, 0}, 10, ""}, {"b", {500, 1LL << 30, 0}, 10, ""}}, {}};
  auto plan = f.Run();
  REQUIRE(plan.status);
  CHECK(plan.status->phase == Phase::kRejected);
  CHECK(plan.status->reason == "NoNodeFits");
  CHECK(plan.status->message.find("no node can hold cpu 600m") != std::string::npos);
  CHECK(!plan.status->admission);
  // The ledger says no first: InsufficientCapacity, whatever the nodes say.
  f.w.spec.resources = {2000, 1LL << 20, 0};
  CHECK(f.Run().status->reason == "InsufficientCapacity");
  // Room on a node: admitted, and the message names it.
  f.w.spec.resources = {400, 1LL << 20, 0};
  auto ok = f.Run();
  REQUIRE(ok.status);
  CHECK(ok.status->admission);
  CHECK(ok.status->message.find("node a can hold it") != std::string::npos);
  // A GPU model no node carries: NoNodeFits.
  f.w.spec.gpu_model = "H100";
  CHECK(f.Run().status->reason == "NoNodeFits");
}

TEST_CASE("plan: a Pod no node can run is given up after the schedule timeout") {
  Fixture f;
  f.schedule_timeout = std::chrono::seconds(30);
  f.Admit();
  f.Apply(f.Run());  // the Pod
  f.pod.exists = true;
  f.pod.owned = true;
  f.pod.phase = "Pending";
  f.pod.unschedulable = true;
  f.pod.unschedulable_since = "2026-11-30T10:00:00Z";
  f.pod.scheduler_message = "0/2 nodes are available: 2 Insufficient cpu.";
  f.now = "2026-11-30T10:00:10Z";
  auto waiting = f.Run();
  CHECK(!waiting.delete_pod);
  REQUIRE(waiting.requeue_after);
  CHECK(*waiting.requeue_after == std::chrono::seconds(20));
  REQUIRE(waiting.status);
  CHECK(waiting.status->reason == "Unschedulable");
  CHECK(waiting.status->admission);  // still charged while it may yet be placed
  f.Apply(waiting);
  f.now = "2026-11-30T10:00:30Z";
  auto ended = f.Run();
  CHECK(ended.delete_pod);
  REQUIRE(ended.status);
  CHECK(ended.status->phase == Phase::kFailed);
  CHECK(ended.status->reason == "Unschedulable");
  CHECK(ended.status->message.find("2 Insufficient cpu") != std::string::npos);
  CHECK(!ended.status->admission);
  REQUIRE(!ended.events.empty());
  CHECK(ended.events[0].reason == "Unschedulable");
  // Off (0): it waits for ever, as before.
  Fixture g = f;
  g.schedule_timeout = std::chrono::milliseconds(0);
  CHECK(!g.Run().delete_pod);
}

TEST_CASE("plan: a workload whose node is deleted or long not Ready ends with NodeLost") {
  Fixture f;
  f.Running();
  f.node_lost_grace = std::chrono::seconds(60);
  f.now = "2026-11-30T10:05:00Z";
  // Ready, or not known (the view is off or has not synced): nothing happens.
  f.node.state = NodeHealth::State::kReady;
  CHECK(f.Run().Empty());
  f.node.state = NodeHealth::State::kUnknown;
  CHECK(f.Run().Empty());
  // Not Ready for 30 s of a 60 s grace: look again in 30 s.
  f.node.state = NodeHealth::State::kNotReady;
  f.node.not_ready_since = At("2026-11-30T10:04:30Z");
  auto wait = f.Run();
  CHECK(!wait.delete_pod);
  CHECK(!wait.status);
  REQUIRE(wait.requeue_after);
  CHECK(*wait.requeue_after == std::chrono::seconds(30));
  // Past the grace: released, its Pod deleted.
  f.node.not_ready_since = At("2026-11-30T10:03:59Z");
  auto lost = f.Run();
  CHECK(lost.delete_pod);
  REQUIRE(lost.status);
  CHECK(lost.status->phase == Phase::kFailed);
  CHECK(lost.status->reason == "NodeLost");
  CHECK(lost.status->message == "node node-a has not been Ready for 60s");
  CHECK(!lost.status->admission);
  // Deleted (confirmed by the controller): at once.
  f.node.state = NodeHealth::State::kMissing;
  CHECK(f.Run().status->message == "node node-a was deleted");
  // A Pod that already ended is recorded as it ended, not as lost.
  f.pod.phase = "Succeeded";
  CHECK(f.Run().status->reason == "PodSucceeded");
}

TEST_CASE("BuildPod: the node selector and a GPU model place the Pod") {
  Fixture f;
  f.w.spec.gpu_model = "A100";
  PodPolicy policy;
  policy.node_selector = {{"pool", "gpu"}};
  json pod = BuildPod(f.w, f.provider, "img", "p", "", policy);
  CHECK(pod["spec"]["nodeSelector"] == json{{"pool", "gpu"}});
  const json& term = pod["spec"]["affinity"]["nodeAffinity"]
                        ["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"][0];
  CHECK(term["matchExpressions"][0] ==
        json{{"key", "nvidia.com/gpu.product"}, {"operator", "In"}, {"values", {"A100"}}});
  f.w.spec.gpu_model = "";
  json plain = BuildPod(f.w, f.provider, "img", "p");
  CHECK(!plain["spec"].contains("nodeSelector"));
  CHECK(!plain["spec"].contains("affinity"));
}

TEST_CASE("BuildPod: a component gets no API token, no privileges, and a non-root user if set") {
  Fixture f;
  json pod = BuildPod(f.w, f.provider, "img", "p");
  CHECK(pod["spec"]["automountServiceAccountToken"] == false);
  CHECK(pod["spec"]["securityContext"] ==
        json{{"seccompProfile", {{"type", "RuntimeDefault"}}}});  // the image's user stays
  CHECK(pod["spec"]["containers"][0]["securityContext"] ==
        json{{"allowPrivilegeEscalation", false}, {"capabilities", {{"drop", {"ALL"}}}}});
  PodPolicy policy;
  policy.run_as_user = 65534;
  json confined = BuildPod(f.w, f.provider, "img", "p", "", policy);
  CHECK(confined["spec"]["securityContext"] ==
        json{{"seccompProfile", {{"type", "RuntimeDefault"}}},
             {"runAsNonRoot", true},
             {"runAsUser", 65534},
             {"runAsGroup", 65534}});
}

TEST_CASE("ObservePod reads the scheduler's Unschedulable verdict") {
  json pod = {{"metadata", {{"name", "w1"}}},
              {"status",
               {{"phase", "Pending"},
                {"conditions", json::array({{{"type", "PodScheduled"},
                                             {"status", "False"},
                                             {"reason", "Unschedulable"},
                                             {"message", "0/1 nodes are available"},
                                             {"lastTransitionTime", "2026-11-30T10:00:00Z"}}})}}}};
  PodObservation o = ObservePod(pod, "uid");
  CHECK(o.unschedulable);
  CHECK(o.unschedulable_since == "2026-11-30T10:00:00Z");
  CHECK(o.scheduler_message == "0/1 nodes are available");
  pod["status"]["conditions"][0]["reason"] = "SchedulerError";
  CHECK(!ObservePod(pod, "uid").unschedulable);
}
