#include "controller/node_view.h"

#include "kube/error.h"
#include "kube/time_format.h"

namespace iarnet {

NodeView::NodeView(kube::Client& client, NodeViewOptions options) : options_(std::move(options)) {
  kube::Informer::Options node_options;
  node_options.transform = KeepWhatTheNodeViewNeeds;
  node_options.compact = true;
  node_options.on_store = [this](const kube::ObjectPtr& before, const kube::ObjectPtr& after) {
    std::lock_guard<std::mutex> lock(mu_);
    if (after) {
      book_.SetNode(NodeFactsFromJson(*after));
    } else if (before) {
      book_.RemoveNode((*before)["metadata"].value("name", ""));
    }
  };
  nodes_ = std::make_unique<kube::Informer>(client, kube::resources::kNodes, "", node_options);

  // Terminal Pods hold nothing (the scheduler frees their requests too); the field
  // selector makes the API server drop them from the view as they end.
  kube::Informer::Options pod_options;
  pod_options.watch.field_selector = "status.phase!=Succeeded,status.phase!=Failed";
  pod_options.watch.page_size = 0;  // one answer: much faster than pages (watcher.h)
  pod_options.watch.skip_managed_fields = true;
  pod_options.transform = [ns = options_.namespace_](kube::json& pod) {
    ReducePodToRequests(pod, ns);
  };
  pod_options.compact = true;
  pod_options.after_relist = options_.release_memory;
  pod_options.on_store = [this](const kube::ObjectPtr& before, const kube::ObjectPtr& after) {
    std::lock_guard<std::mutex> lock(mu_);
    if (after) {
      book_.SetPod(kube::ObjectKey(*after), PodFactsFromJson(*after));
    } else if (before) {
      book_.RemovePod(kube::ObjectKey(*before));
    }
  };
  pods_ = std::make_unique<kube::Informer>(client, kube::resources::kPods, "", pod_options);
}

NodeView::~NodeView() { Stop(); }

void NodeView::Start() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    uncertain_since_ = std::chrono::system_clock::now();  // nothing seen before counts
  }
  nodes_->Start();
  pods_->Start();
}

void NodeView::Stop() {
  if (nodes_) nodes_->Stop();
  if (pods_) pods_->Stop();
}

bool NodeView::WaitForSync(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (auto* inf : {nodes_.get(), pods_.get()}) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (!inf->WaitForSync(std::max(left, std::chrono::milliseconds(0)))) return false;
  }
  return true;
}

bool NodeView::HasSynced() const { return nodes_->HasSynced() && pods_->HasSynced(); }

Resources NodeView::Holdable() const {
  std::lock_guard<std::mutex> lock(mu_);
  return book_.Holdable(options_.node_selector);
}

std::vector<Room> NodeView::Rooms() const {
  std::lock_guard<std::mutex> lock(mu_);
  return book_.Rooms(options_.node_selector);
}

ClusterView NodeView::View() const {
  std::lock_guard<std::mutex> lock(mu_);
  return book_.View(options_.node_selector);
}

bool NodeView::Bound(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  return book_.Bound(key);
}

std::vector<std::string> NodeView::OursOn(const std::string& node) const {
  std::lock_guard<std::mutex> lock(mu_);
  return book_.OursOn(node);
}

size_t NodeView::node_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return book_.node_count();
}

size_t NodeView::pod_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return book_.pod_count();
}

void NodeView::NoteWatchHealthLocked() const {
  auto stats = nodes_->watch_stats();
  if (!stats.streaming) {
    uncertain_since_ = std::chrono::system_clock::now();
  } else if (stats.resumed_at > uncertain_since_) {
    uncertain_since_ = stats.resumed_at;  // the watch came back then: count from there
  }
}

NodeHealth NodeView::Health(const std::string& node) const {
  NodeHealth h;
  if (node.empty() || !nodes_->HasSynced()) return h;
  std::lock_guard<std::mutex> lock(mu_);
  NoteWatchHealthLocked();
  const NodeFacts* facts = book_.Node(node);
  if (!facts) {
    h.state = NodeHealth::State::kMissing;
    return h;
  }
  if (facts->ready) {
    h.state = NodeHealth::State::kReady;
    return h;
  }
  h.state = NodeHealth::State::kNotReady;
  auto since = kube::ParseTime(facts->ready_since);
  // An unreadable time counts from now: never act sooner on a guess.
  h.not_ready_since = since ? *since : std::chrono::system_clock::now();
  if (uncertain_since_ > h.not_ready_since) h.not_ready_since = uncertain_since_;
  return h;
}

}  // namespace iarnet
