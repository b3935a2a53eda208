#include "controller/node_fit.h"

#include <catch2/catch.hpp>

using iarnet::json;
using iarnet::NodeBook;
using iarnet::NodeFacts;
using iarnet::PodFacts;
using iarnet::Resources;

namespace {

const int64_t Gi = int64_t{1} << 30;

json Node(const std::string& name, const std::string& cpu, const std::string& memory,
          const std::string& pods = "110", const std::string& gpus = "0") {
  return {{"metadata",
           {{"name", name},
            {"resourceVersion", "7"},
            {"labels", {{"pool", "a"}}},
            {"annotations", {{"big", std::string(1000, 'x')}}}}},
          {"spec", {{"podCIDR", "10.0.0.0/24"}}},
          {"status",
           {{"allocatable",
             {{"cpu", cpu}, {"memory", memory}, {"pods", pods}, {"nvidia.com/gpu", gpus}}},
            {"capacity", {{"cpu", cpu}}},
            {"images", json::array({{{"names", {"a", "b"}}}})},
            {"conditions", json::array({{{"type", "MemoryPressure"}, {"status", "False"}},
                                        {{"type", "Ready"},
                                         {"status", "True"},
                                         {"reason", "KubeletReady"},
                                         {"lastTransitionTime", "2026-12-01T10:00:00Z"}}})}}}};
}

NodeFacts Facts(const std::string& name, int64_t cpu, int64_t memory, int64_t pods = 110) {
  NodeFacts n;
  n.name = name;
  n.allocatable = {cpu, memory, 0};
  n.pods = pods;
  n.ready = true;
  n.labels = {{"pool", "a"}};
  return n;
}

}  // namespace

TEST_CASE("node view: a Node is reduced to what the view reads") {
  json n = Node("n1", "4", "8Gi", "110", "2");
  n["metadata"]["labels"]["nvidia.com/gpu.product"] = "A100";
  n["spec"]["unschedulable"] = true;
  n["spec"]["taints"] = json::array({{{"key", "k"}, {"value", "v"}, {"effect", "NoSchedule"}},
                                     {{"key", "soft"}, {"effect", "PreferNoSchedule"}}});
  iarnet::KeepWhatTheNodeViewNeeds(n);
  CHECK(!n["metadata"].contains("annotations"));
  CHECK(!n["status"].contains("images"));
  CHECK(!n["status"].contains("capacity"));
  CHECK(n["status"]["conditions"].size() == 1);
  NodeFacts f = iarnet::NodeFactsFromJson(n);
  CHECK(f.name == "n1");
  CHECK(f.allocatable == Resources{4000, 8 * Gi, 2});
  CHECK(f.pods == 110);
  CHECK(f.gpu_model == "A100");
  CHECK(f.ready);
  CHECK(f.ready_since == "2026-12-01T10:00:00Z");
  CHECK(f.unschedulable);
  // PreferNoSchedule does not keep a Pod off the node.
  CHECK(f.taints == std::vector<std::string>{"k=v:NoSchedule"});
}

TEST_CASE("node view: a Pod is reduced to its node, effective requests and whose it is") {
  json pod = {
      {"metadata",
       {{"name", "w1"},
        {"namespace", "ours"},
        {"uid", "u1"},
        {"resourceVersion", "9"},
        {"labels", {{"iarnet.managed", "true"}}},
        {"ownerReferences", json::array({{{"apiVersion", "iarnet.io/v1alpha1"},
                                          {"kind", "IarnetWorkload"},
                                          {"name", "w1"},
                                          {"uid", "wu"},
                                          {"controller", true}}})}}},
      {"spec",
       {{"nodeName", "n1"},
        {"containers",
         json::array(
             {{{"name", "a"}, {"resources", {{"requests", {{"cpu", "500m"}, {"memory", "1Gi"}}}}}},
              {{"name", "b"},
               {"resources", {{"requests", {{"cpu", "250m"}, {"nvidia.com/gpu", "1"}}}}}}})},
        {"initContainers",
         json::array({{{"name", "i"}, {"resources", {{"requests", {{"cpu", "2"}}}}}}})},
        {"overhead", {{"cpu", "10m"}, {"memory", "1Mi"}}}}},
      {"status", {{"phase", "Running"}}}};
  json copy = pod;
  iarnet::ReducePodToRequests(pod, "ours");
  CHECK(!pod.contains("spec"));
  CHECK(pod["metadata"]["name"] == "w1");
  CHECK(pod["metadata"]["resourceVersion"] == "9");
  PodFacts f = iarnet::PodFactsFromJson(pod);
  CHECK(f.node == "n1");
  // Containers sum to 750m, the init container needs 2: the larger counts, plus overhead.
  CHECK(f.requests == Resources{2010, Gi + (1 << 20), 1});
  CHECK(f.ours);
  // The same Pod in another namespace is another provider's: foreign.
  iarnet::ReducePodToRequests(copy, "theirs");
  CHECK(!iarnet::PodFactsFromJson(copy).ours);
  // No requests at all: nothing (the scheduler counts it as 0 too).
  json bare = {{"metadata", {{"name", "x"}, {"namespace", "y"}}},
               {"spec", {{"containers", json::array({{{"name", "c"}}})}}}};
  iarnet::ReducePodToRequests(bare, "ours");
  CHECK(iarnet::PodFactsFromJson(bare).requests == Resources{});
}

TEST_CASE("node view: eligibility says why a node is left out") {
  std::map<std::string, std::string> none, pool_a = {{"pool", "a"}}, pool_b = {{"pool", "b"}};
  NodeFacts n = Facts("n", 4000, 8 * Gi);
  CHECK(!iarnet::Ineligible(n, none));
  CHECK(!iarnet::Ineligible(n, pool_a));
  CHECK(*iarnet::Ineligible(n, pool_b) == "not selected (pool=b)");
  n.taints = {"dedicated=x:NoExecute"};
  CHECK(*iarnet::Ineligible(n, none) == "tainted dedicated=x:NoExecute");
  n.unschedulable = true;
  CHECK(*iarnet::Ineligible(n, none) == "cordoned");
  n.ready = false;
  CHECK(*iarnet::Ineligible(n, none) == "not Ready");
}

TEST_CASE("node view: the book sums requests per node as Pods come, change and go") {
  NodeBook book;
  std::map<std::string, std::string> any;
  // A Pod seen before its node: counted once the node arrives.
  book.SetPod("x/early", {"n1", {500, Gi, 0}, false});
  book.SetNode(Facts("n1", 4000, 8 * Gi, 10));
  book.SetNode(Facts("n2", 2000, 4 * Gi, 10));
  CHECK(book.Holdable(any) == Resources{5500, 11 * Gi, 0});
  book.SetPod("ours/w1", {"n2", {1000, Gi, 0}, true});
  // Our own Pods are in the ledger's used, not subtracted from what the nodes hold for us...
  CHECK(book.Holdable(any) == Resources{5500, 11 * Gi, 0});
  CHECK(book.Bound("ours/w1"));
  CHECK(book.OursOn("n2") == std::vector<std::string>{"ours/w1"});
  // ...but they take room on their node.
  auto rooms = book.Rooms(any);
  REQUIRE(rooms.size() == 2);
  CHECK(rooms[0].free == Resources{3500, 7 * Gi, 0});
  CHECK(rooms[0].pods_free == 9);
  CHECK(rooms[1].free == Resources{1000, 3 * Gi, 0});
  // A Pod that moves (re-created on another node under the same key) moves its sums.
  book.SetPod("x/early", {"n2", {500, Gi, 0}, false});
  CHECK(book.Rooms(any)[0].free == Resources{4000, 8 * Gi, 0});
  CHECK(book.Rooms(any)[1].free == Resources{500, 2 * Gi, 0});
  book.RemovePod("x/early");
  book.RemovePod("ours/w1");
  book.RemovePod("never/seen");
  CHECK(book.Holdable(any) == Resources{6000, 12 * Gi, 0});
  CHECK(!book.Bound("ours/w1"));
  // Foreign requests larger than the node: free is 0, never negative.
  book.SetPod("x/huge", {"n2", {9000, 99 * Gi, 0}, false});
  CHECK(book.Rooms(any)[1].free == Resources{0, 0, 0});
  CHECK(book.Holdable(any) == Resources{4000, 8 * Gi, 0});
  // A cordoned node holds nothing for us.
  NodeFacts cordoned = Facts("n1", 4000, 8 * Gi);
  cordoned.unschedulable = true;
  book.SetNode(cordoned);
  CHECK(book.Holdable(any) == Resources{0, 0, 0});
  REQUIRE(book.Rooms(any).size() == 1);
  CHECK(book.Rooms(any)[0].name == "n2");
  book.RemoveNode("n2");
  CHECK(book.node_count() == 1);
}

TEST_CASE("node view: the status summary counts GPUs per model and the largest request") {
  NodeBook book;
  NodeFacts a = Facts("a100-node", 8000, 16 * Gi);
  a.allocatable.gpu = 4;
  a.gpu_model = "A100";
  NodeFacts t = Facts("t4-node", 4000, 32 * Gi);
  t.allocatable.gpu = 2;
  t.gpu_model = "T4";
  book.SetNode(a);
  book.SetNode(t);
  book.SetNode(Facts("cpu-node", 2000, 4 * Gi));
  book.SetPod("x/p", {"a100-node", {1000, Gi, 3}, false});
  iarnet::ClusterView v = book.View({});
  CHECK(v.eligible_nodes == 3);
  CHECK(v.allocatable == Resources{14000, 52 * Gi, 6});
  CHECK(v.free == Resources{13000, 51 * Gi, 3});
  // Each resource alone: 7 cores on the A100 node, 32Gi on the T4 node, 2 GPUs there.
  CHECK(v.largest_placeable == Resources{7000, 32 * Gi, 2});
  REQUIRE(v.gpus.size() == 2);
  CHECK(v.gpus[0] == iarnet::GpuModelCount{"A100", 4, 1});
  CHECK(v.gpus[1] == iarnet::GpuModelCount{"T4", 2, 2});
  REQUIRE(v.nodes.size() == 3);
  CHECK(v.nodes[0].name == "a100-node");  // most free cpu first
  CHECK(v.nodes[0].gpu_model == "A100");
}

TEST_CASE("node fit: a request fits only where one node holds all of it") {
  using iarnet::Room;
  std::vector<Room> rooms = {{"a", {4000, 8 * Gi, 0}, 10, ""}, {"b", {4000, 8 * Gi, 0}, 10, ""}};
  // More than any node, though less than the sum: no node fits, and the message says so.
  auto v = iarnet::FitNode(rooms, {}, {6000, Gi, 0}, "");
  CHECK(!v.fits);
  CHECK(v.message.find("no node can hold cpu 6") != std::string::npos);
  CHECK(v.message.find("a (cpu 4") != std::string::npos);
  CHECK(iarnet::FitNode(rooms, {}, {4000, Gi, 0}, "").fits);
  // Fragmentation: two admitted 3-core workloads not bound yet take 3 of each node, so a
  // 2-core request fits nowhere although 2 cores are free in all.
  std::vector<Resources> pending = {{3000, Gi, 0}, {3000, Gi, 0}};
  auto frag = iarnet::FitNode(rooms, pending, {2000, Gi, 0}, "");
  CHECK(!frag.fits);
  CHECK(frag.message.find("free after pending placements: a (cpu 1") != std::string::npos);
  CHECK(iarnet::FitNode(rooms, pending, {1000, Gi, 0}, "").fits);
  // The Pod count is part of the room.
  std::vector<Room> full = {{"a", {4000, 8 * Gi, 0}, 0, ""}};
  CHECK(!iarnet::FitNode(full, {}, {100, 1, 0}, "").fits);
  CHECK(iarnet::FitNode({}, {}, {100, 1, 0}, "").message.find("no node is eligible") !=
        std::string::npos);
}

TEST_CASE("node fit: a GPU model must be on the node that holds the request") {
  using iarnet::Room;
  std::vector<Room> rooms = {{"t4", {8000, 8 * Gi, 2}, 10, "T4"},
                             {"a100", {8000, 8 * Gi, 1}, 10, "A100"}};
  auto v = iarnet::FitNode(rooms, {}, {1000, Gi, 1}, "A100");
  CHECK(v.fits);
  CHECK(v.node == "a100");
  CHECK(!iarnet::FitNode(rooms, {}, {1000, Gi, 2}, "A100").fits);
  CHECK(iarnet::FitNode(rooms, {}, {1000, Gi, 2}, "").node == "t4");
  auto h = iarnet::FitNode(rooms, {}, {1000, Gi, 1}, "H100");
  CHECK(!h.fits);
  CHECK(h.message.find("on GPU model H100") != std::string::npos);
}
