// Cluster truth, the pure part: which nodes this provider may use, what they can hold
// for it, and whether one of them can hold a request now. No I/O and no locking: the
// node view (node_view.h) feeds NodeBook from its Node and Pod informers under its own
// lock, and admission (workload_plan.h) asks FitNode.
//
// The rules follow the scheduler's NodeResourcesFit in spirit (requests, not usage; the
// Pod count too) but only so far as a provider must promise: a node is eligible when it
// is Ready, not cordoned, carries no NoSchedule/NoExecute taint (component Pods
// tolerate none) and matches the configured node selector. What it can hold for us is
// its allocatable minus the requests of every non-terminal Pod bound to it.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "api/iarnet_types.h"

namespace iarnet {

// The facts of one Node the view keeps (from the reduced object, KeepWhatTheNodeViewNeeds).
struct NodeFacts {
  std::string name;
  Resources allocatable;
  int64_t pods = 0;  // allocatable Pods
  std::string gpu_model;
  bool ready = false;
  std::string ready_since;  // the Ready condition's lastTransitionTime
  bool unschedulable = false;
  std::vector<std::string> taints;  // NoSchedule and NoExecute ones, as "key=value:Effect"
  std::map<std::string, std::string> labels;
  bool operator==(const NodeFacts&) const = default;
};

// What one non-terminal Pod takes from its node.
struct PodFacts {
  std::string node;  // "" while unbound
  Resources requests;
  bool ours = false;  // a Pod of one of this provider's workloads
  bool operator==(const PodFacts&) const = default;
};

// Reduces a Node to what NodeFactsFromJson reads (the informer's transform).
void KeepWhatTheNodeViewNeeds(json& node);
NodeFacts NodeFactsFromJson(const json& node);

// Reduces a Pod to {metadata: name, namespace, uid, resourceVersion; "iarnet": its
// node, requests and whether it is ours}, so that 100,000 Pods cost little memory.
// `our_namespace`: where this provider's workloads live.
void ReducePodToRequests(json& pod, const std::string& our_namespace);
PodFacts PodFactsFromJson(const json& reduced_pod);
// The scheduler's effective request of a Pod spec: the sum over containers, at least
// the largest init container, plus the Pod overhead (cpu, memory, nvidia.com/gpu).
Resources EffectiveRequests(const json& pod_spec);

// Why a node is not eligible; nullopt when it is.
std::optional<std::string> Ineligible(const NodeFacts& node,
                                      const std::map<std::string, std::string>& node_selector);

// One eligible node's room for a new component.
struct Room {
  std::string name;
  Resources free;  // allocatable minus every Pod's requests; never below zero
  int64_t pods_free = 0;
  std::string gpu_model;
  bool operator==(const Room&) const = default;
};

struct FitVerdict {
  bool fits = false;
  std::string node;     // where first fit put it
  std::string message;  // when it does not fit: each node's free room (the first 8)
};

// Whether some room holds `request` (cpu, memory, GPUs and one Pod) on a node of
// `gpu_model` ("" any), after placing `pending` first (admitted workloads whose Pods are
// not bound yet, first fit in the order given; one that fits nowhere takes nothing).
FitVerdict FitNode(std::vector<Room> rooms, const std::vector<Resources>& pending,
                   const Resources& request, const std::string& gpu_model);

// How a workload's node looks to the view.
struct NodeHealth {
  enum class State { kUnknown, kReady, kNotReady, kMissing } state = State::kUnknown;
  // kNotReady: since when it is known to be so, with this view's watch healthy all along
  // (the later of the Ready condition's transition and the view's last watch failure).
  std::chrono::system_clock::time_point not_ready_since{};
};

// The per-node sums of the view: nodes and Pods as their informers have them.
class NodeBook {
 public:
  void SetNode(const NodeFacts& node);
  void RemoveNode(const std::string& name);
  void SetPod(const std::string& key, const PodFacts& pod);
  void RemovePod(const std::string& key);

  const NodeFacts* Node(const std::string& name) const;
  // Whether our Pod `key` (namespace/name, the workload's key) is bound to a node.
  bool Bound(const std::string& key) const { return ours_bound_.count(key) > 0; }
  // The keys of our Pods bound to `node`.
  std::vector<std::string> OursOn(const std::string& node) const;

  // The eligible nodes' rooms, in name order.
  std::vector<Room> Rooms(const std::map<std::string, std::string>& node_selector) const;
  // What the eligible nodes can hold for us: allocatable minus the requests of Pods that
  // are not ours, summed (our own Pods are in the ledger's used).
  Resources Holdable(const std::map<std::string, std::string>& node_selector) const;
  // The status summary: eligible nodes, allocatable, free, largest, nodes, GPUs per model.
  ClusterView View(const std::map<std::string, std::string>& node_selector) const;
  size_t node_count() const { return nodes_.size(); }
  size_t pod_count() const { return pods_.size(); }

 private:
  struct Sums {
    Resources foreign, ours;
    int64_t pods = 0;
  };
  void Count(const PodFacts& pod, int sign);
  Room RoomOf(const NodeFacts& node) const;

  std::map<std::string, NodeFacts> nodes_;
  // Per node name, also for nodes the book has not seen (yet): a late Node finds its sums.
  std::map<std::string, Sums> sums_;
  std::map<std::string, PodFacts> pods_;
  std::set<std::string> ours_bound_;
};

}  // namespace iarnet
