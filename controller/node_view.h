// The node view (capacity.source: nodes): informers on every Node and every
// non-terminal Pod of the cluster, each reduced to the few fields node_fit.h needs, and
// the NodeBook summed from them as they change. Nothing in it writes.
//
// Threads and locks:
// - Start, Stop and WaitForSync run on the caller's thread (main, via Caches).
// - The informers' on_store hooks feed the book on their watch thread (the client's I/O
//   thread) with the informer's cache lock held, then take mu_: mu_ guards book_ and
//   uncertain_since_, and is a leaf (nothing is called while it is held).
// - Handlers others add to nodes() and pods() run on the watch thread after the cache
//   changed, outside mu_; they must not block.
// - Readers may call from any thread.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "controller/node_fit.h"
#include "kube/client.h"
#include "kube/informer.h"

namespace iarnet {

struct NodeViewOptions {
  std::string namespace_ = "default";  // where this provider's workloads live
  std::map<std::string, std::string> node_selector;
  std::function<void()> release_memory;  // after a relist, as CachesOptions::release_memory
};

class NodeView {
 public:
  NodeView(kube::Client& client, NodeViewOptions options);
  ~NodeView();
  NodeView(const NodeView&) = delete;
  NodeView& operator=(const NodeView&) = delete;

  void Start();
  void Stop();
  bool WaitForSync(std::chrono::milliseconds timeout);
  bool HasSynced() const;

  // What the eligible nodes can hold for us (NodeBook::Holdable).
  Resources Holdable() const;
  std::vector<Room> Rooms() const;
  ClusterView View() const;
  bool Bound(const std::string& workload_key) const;
  std::vector<std::string> OursOn(const std::string& node) const;
  NodeHealth Health(const std::string& node) const;

  // To add handlers to, before Start (capacity changed; a node changed or left).
  kube::Informer& nodes() { return *nodes_; }
  kube::Informer& pods() { return *pods_; }
  const NodeViewOptions& options() const { return options_; }
  size_t node_count() const;
  size_t pod_count() const;

 private:
  // No node watch open right now, or one reopened after a failure, makes what the view
  // said about readiness uncertain until then: time counts again from the moment the
  // watch streams again (an API server outage must never look like a lost node).
  void NoteWatchHealthLocked() const;

  NodeViewOptions options_;
  std::unique_ptr<kube::Informer> nodes_, pods_;
  mutable std::mutex mu_;
  NodeBook book_;                                                    // guarded by mu_
  mutable std::chrono::system_clock::time_point uncertain_since_{};  // guarded by mu_
};

}  // namespace iarnet
