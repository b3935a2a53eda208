#include "controller/node_fit.h"

#include <algorithm>

#include "api/quantity.h"
#include "api/vocabulary.h"
#include "controller/json_prune.h"
#include "controller/ledger.h"

namespace iarnet {
namespace {

// A quantity, or 0 when absent or unreadable (the API server validated it: an
// unreadable one means a format we do not know, and 0 never over-promises a node).
int64_t Quantity(const json& list, const char* key, bool milli) {
  if (!list.is_object() || !list.contains(key) || !list[key].is_string()) return 0;
  auto text = list[key].get<std::string>();
  auto r = milli ? ParseMilliQuantity(text) : ParseQuantity(text);
  const int64_t* v = std::get_if<int64_t>(&r);
  return v && *v > 0 ? *v : 0;
}

Resources ReadList(const json& list) {
  return {Quantity(list, "cpu", true), Quantity(list, "memory", false),
          Quantity(list, kGpuResource, false)};
}

Resources Max(const Resources& a, const Resources& b) {
  return {std::max(a.cpu, b.cpu), std::max(a.memory, b.memory), std::max(a.gpu, b.gpu)};
}

std::string Describe(const Room& r) {
  return r.name + " (" + iarnet::Describe(r.free) + ", pods " + std::to_string(r.pods_free) +
         (r.gpu_model.empty() ? "" : ", " + r.gpu_model) + ")";
}

// Takes `request` and one Pod from `room`.
void Take(Room& room, const Resources& request) {
  room.free = Available(room.free, request);
  room.pods_free = std::max<int64_t>(0, room.pods_free - 1);
}

bool Holds(const Room& room, const Resources& request, const std::string& gpu_model) {
  if (room.pods_free < 1 || !Fits(request, room.free)) return false;
  return gpu_model.empty() || room.gpu_model == gpu_model;
}

}  // namespace

void KeepWhatTheNodeViewNeeds(json& node) {
  if (!node.is_object()) return;
  KeepOnly(node, {"metadata", "spec", "status"});
  if (node.contains("metadata")) KeepOnly(node["metadata"], {"name", "resourceVersion", "labels"});
  if (node.contains("spec")) KeepOnly(node["spec"], {"unschedulable", "taints"});
  if (node.contains("status")) {
    json& status = node["status"];
    KeepOnly(status, {"allocatable", "conditions"});
    KeepItems(status, "conditions", [](const json& c) { return c.value("type", "") == "Ready"; },
              {"type", "status", "lastTransitionTime"});
  }
}

NodeFacts NodeFactsFromJson(const json& node) {
  NodeFacts n;
  const json& meta = node.value("metadata", json::object());
  n.name = meta.value("name", "");
  const json labels = meta.value("labels", json::object());
  for (const auto& [k, v] : labels.items()) {
    if (v.is_string()) n.labels[k] = v.get<std::string>();
  }
  if (auto it = n.labels.find(kGpuProductLabel); it != n.labels.end()) n.gpu_model = it->second;
  const json& spec = node.value("spec", json::object());
  n.unschedulable = spec.value("unschedulable", false);
  for (const auto& t : spec.value("taints", json::array())) {
    std::string effect = t.value("effect", "");
    if (effect != "NoSchedule" && effect != "NoExecute") continue;
    std::string value = t.value("value", "");
    n.taints.push_back(t.value("key", "") + (value.empty() ? "" : "=" + value) + ":" + effect);
  }
  const json& status = node.value("status", json::object());
  const json& allocatable = status.value("allocatable", json::object());
  n.allocatable = ReadList(allocatable);
  if (allocatable.contains("pods") && allocatable["pods"].is_string()) {
    n.pods = Quantity(allocatable, "pods", false);
  }
  for (const auto& c : status.value("conditions", json::array())) {
    if (c.value("type", "") != "Ready") continue;
    n.ready = c.value("status", "") == "True";
    n.ready_since = c.value("lastTransitionTime", "");
  }
  return n;
}

Resources EffectiveRequests(const json& spec) {
  Resources sum;
  for (const auto& c : spec.value("containers", json::array())) {
    sum =
        Add(sum, ReadList(c.value("resources", json::object()).value("requests", json::object())));
  }
  Resources init;
  for (const auto& c : spec.value("initContainers", json::array())) {
    init =
        Max(init, ReadList(c.value("resources", json::object()).value("requests", json::object())));
  }
  return Add(Max(sum, init), ReadList(spec.value("overhead", json::object())));
}

void ReducePodToRequests(json& pod, const std::string& our_namespace) {
  if (!pod.is_object()) return;
  const json& meta = pod.value("metadata", json::object());
  bool ours = meta.value("namespace", "") == our_namespace &&
              meta.value("labels", json::object()).value(kManagedLabel, "") == "true" &&
              ControlledByWorkload(pod).has_value();
  const json& spec = pod.value("spec", json::object());
  Resources r = EffectiveRequests(spec);
  json reduced = {{"metadata",
                   {{"name", meta.value("name", "")},
                    {"namespace", meta.value("namespace", "")},
                    {"uid", meta.value("uid", "")},
                    {"resourceVersion", meta.value("resourceVersion", "")}}},
                  {"iarnet",
                   {{"node", spec.value("nodeName", "")},
                    {"cpu", r.cpu},
                    {"memory", r.memory},
                    {"gpu", r.gpu},
                    {"ours", ours}}}};
  pod = std::move(reduced);
}

PodFacts PodFactsFromJson(const json& pod) {
  const json& f = pod.value("iarnet", json::object());
  return {f.value("node", ""),
          {f.value("cpu", int64_t{0}), f.value("memory", int64_t{0}), f.value("gpu", int64_t{0})},
          f.value("ours", false)};
}

std::optional<std::string> Ineligible(const NodeFacts& node,
                                      const std::map<std::string, std::string>& node_selector) {
  if (!node.ready) return "not Ready";
  if (node.unschedulable) return "cordoned";
  if (!node.taints.empty()) return "tainted " + node.taints.front();
  for (const auto& [k, v] : node_selector) {
    auto it = node.labels.find(k);
    if (it == node.labels.end() || it->second != v) return "not selected (" + k + "=" + v + ")";
  }
  return std::nullopt;
}

FitVerdict FitNode(std::vector<Room> rooms, const std::vector<Resources>& pending,
                   const Resources& request, const std::string& gpu_model) {
  for (const auto& p : pending) {
    for (auto& room : rooms) {
      if (Holds(room, p, "")) {
        Take(room, p);
        break;
      }
    }
  }
  FitVerdict v;
  for (const auto& room : rooms) {
    if (Holds(room, request, gpu_model)) {
      v.fits = true;
      v.node = room.name;
      return v;
    }
  }
  v.message = "no node can hold " + iarnet::Describe(request) +
              (gpu_model.empty() ? "" : " on GPU model " + gpu_model) + " now";
  if (rooms.empty()) {
    v.message += ": no node is eligible";
    return v;
  }
  // The roomiest first: they are the ones worth knowing about.
  std::sort(rooms.begin(), rooms.end(), [](const Room& a, const Room& b) {
    return a.free.cpu != b.free.cpu ? a.free.cpu > b.free.cpu : a.name < b.name;
  });
  v.message += "; free after pending placements:";
  for (size_t i = 0; i < rooms.size() && i < 8; ++i)
    v.message += (i ? ", " : " ") + Describe(rooms[i]);
  if (rooms.size() > 8) v.message += " and " + std::to_string(rooms.size() - 8) + " more";
  return v;
}

void NodeBook::SetNode(const NodeFacts& node) { nodes_[node.name] = node; }

void NodeBook::RemoveNode(const std::string& name) { nodes_.erase(name); }

void NodeBook::Count(const PodFacts& pod, int sign) {
  if (pod.node.empty()) return;
  Sums& s = sums_[pod.node];
  Resources& sum = pod.ours ? s.ours : s.foreign;
  sum.cpu += sign * pod.requests.cpu;
  sum.memory += sign * pod.requests.memory;
  sum.gpu += sign * pod.requests.gpu;
  s.pods += sign;
  if (s.pods == 0 && s.foreign == Resources{} && s.ours == Resources{}) sums_.erase(pod.node);
}

void NodeBook::SetPod(const std::string& key, const PodFacts& pod) {
  auto it = pods_.find(key);
  if (it != pods_.end()) {
    if (it->second == pod) return;
    Count(it->second, -1);
  }
  Count(pod, +1);
  pods_[key] = pod;
  if (pod.ours && !pod.node.empty()) {
    ours_bound_.insert(key);
  } else {
    ours_bound_.erase(key);
  }
}

void NodeBook::RemovePod(const std::string& key) {
  auto it = pods_.find(key);
  if (it == pods_.end()) return;
  Count(it->second, -1);
  pods_.erase(it);
  ours_bound_.erase(key);
}

const NodeFacts* NodeBook::Node(const std::string& name) const {
  auto it = nodes_.find(name);
  return it == nodes_.end() ? nullptr : &it->second;
}

std::vector<std::string> NodeBook::OursOn(const std::string& node) const {
  std::vector<std::string> out;
  for (const auto& key : ours_bound_) {
    auto it = pods_.find(key);
    if (it != pods_.end() && it->second.node == node) out.push_back(key);
  }
  return out;
}

Room NodeBook::RoomOf(const NodeFacts& node) const {
  Room r{node.name, node.allocatable, node.pods, node.gpu_model};
  auto it = sums_.find(node.name);
  if (it != sums_.end()) {
    r.free = Available(Available(node.allocatable, it->second.foreign), it->second.ours);
    r.pods_free = std::max<int64_t>(0, node.pods - it->second.pods);
  }
  return r;
}

std::vector<Room> NodeBook::Rooms(const std::map<std::string, std::string>& selector) const {
  std::vector<Room> out;
  for (const auto& [name, node] : nodes_) {
    if (!Ineligible(node, selector)) out.push_back(RoomOf(node));
  }
  return out;
}

Resources NodeBook::Holdable(const std::map<std::string, std::string>& selector) const {
  Resources total;
  for (const auto& [name, node] : nodes_) {
    if (Ineligible(node, selector)) continue;
    auto it = sums_.find(name);
    total = Add(total, it == sums_.end() ? node.allocatable
                                         : Available(node.allocatable, it->second.foreign));
  }
  return total;
}

ClusterView NodeBook::View(const std::map<std::string, std::string>& selector) const {
  ClusterView v;
  std::map<std::string, GpuModelCount> gpus;
  std::vector<Room> rooms;
  for (const auto& [name, node] : nodes_) {
    if (Ineligible(node, selector)) continue;
    Room r = RoomOf(node);
    ++v.eligible_nodes;
    v.allocatable = Add(v.allocatable, node.allocatable);
    v.free = Add(v.free, r.free);
    if (r.pods_free > 0) v.largest_placeable = Max(v.largest_placeable, r.free);
    if (node.allocatable.gpu > 0) {
      std::string model = node.gpu_model.empty() ? "unknown" : node.gpu_model;
      GpuModelCount& g = gpus[model];
      g.model = model;
      g.total += node.allocatable.gpu;
      g.free += r.free.gpu;
    }
    rooms.push_back(std::move(r));
  }
  std::sort(rooms.begin(), rooms.end(), [](const Room& a, const Room& b) {
    return a.free.cpu != b.free.cpu ? a.free.cpu > b.free.cpu : a.name < b.name;
  });
  for (size_t i = 0; i < rooms.size() && i < 50; ++i) {
    v.nodes.push_back({rooms[i].name, rooms[i].free, rooms[i].pods_free, rooms[i].gpu_model});
  }
  for (auto& [model, g] : gpus) {
    if (v.gpus.size() < 64) v.gpus.push_back(g);
  }
  return v;
}

}  // namespace iarnet
