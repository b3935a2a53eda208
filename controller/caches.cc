#include "controller/caches.h"

#include <algorithm>

#include "api/vocabulary.h"
#include "controller/iarnet_resources.h"
#include "controller/pod_cache_form.h"
#include "kube/error.h"

namespace iarnet {

Caches::Caches(kube::Client& client, CachesOptions options)
    : client_(client), options_(std::move(options)) {
  // The charge index changes with the cache, in the same step: an admission decision
  // must never see a cache that has a charge the index does not.
  // Both big caches are kept compact (MessagePack): with thousands of workloads they are
  // most of the process's memory.
  // Unpaged lists: with 10,000 workloads, 20 pages took ~4 s where one answer takes ~1 s
  // (watcher.h), and a restart is ready only once both lists are in.
  kube::Informer::Options workload_options;
  workload_options.compact = true;
  workload_options.watch.page_size = 0;
  workload_options.after_relist = options_.release_memory;
  workload_options.on_store = [this](const kube::ObjectPtr& before, const kube::ObjectPtr& after) {
    Index(after ? after : before, !after);
  };
  workloads_ = std::make_unique<kube::Informer>(client_, kWorkloadResource, options_.namespace_,
                                                workload_options);
  kube::Informer::Options pod_options;
  pod_options.watch.label_selector = kManagedSelector;
  pod_options.transform = KeepWhatThePodCacheNeeds;
  pod_options.compact = true;
  pod_options.watch.page_size = 0;
  pod_options.after_relist = options_.release_memory;
  pods_ = std::make_unique<kube::Informer>(client_, kube::resources::kPods, options_.namespace_,
                                           pod_options);
  providers_ = std::make_unique<kube::Informer>(client_, kProviderResource, options_.namespace_);
  if (options_.node_view) {
    NodeViewOptions view = *options_.node_view;
    view.namespace_ = options_.namespace_;
    if (!view.release_memory) view.release_memory = options_.release_memory;
    node_view_ = std::make_unique<NodeView>(client_, std::move(view));
  }

  auto changed = [this](const kube::ObjectPtr&) {
    if (options_.on_change) options_.on_change();
  };
  workloads_->AddHandlers(
      {changed, [changed](const kube::ObjectPtr&, const kube::ObjectPtr& o) { changed(o); },
       changed});
  // Deploy returns once the Pod exists: its waiters look at the Pod cache too.
  auto pod_changed = [this](const kube::ObjectPtr& p) {
    if (ControlledByWorkload(*p) && options_.on_change) options_.on_change();
  };
  pods_->AddHandlers(
      {pod_changed,
       [pod_changed](const kube::ObjectPtr&, const kube::ObjectPtr& p) { pod_changed(p); },
       pod_changed});
}

Caches::~Caches() { Stop(); }

void Caches::Start() {
  EnsureProvider();
  StartInformers();
  for (auto* inf : {workloads_.get(), pods_.get(), providers_.get()}) {
    if (!inf->WaitForSync(options_.sync_timeout)) {
      throw kube::Error(kube::ErrorKind::kTimeout,
                        "informer for " + inf->type().plural + " did not sync");
    }
  }
  if (node_view_ && !node_view_->WaitForSync(options_.sync_timeout)) {
    throw kube::Error(kube::ErrorKind::kTimeout, "the node view (nodes, pods) did not sync");
  }
}

void Caches::EnsureProvider() {
  // The provider object holds the capacity; create it from the configuration if absent.
  try {
    client_.Get(kProviderResource, options_.namespace_, options_.provider_name);
  } catch (const kube::Error& e) {
    if (!e.IsNotFound()) throw;
    kube::json provider = {
        {"apiVersion", kApiVersion},
        {"kind", kProviderKind},
        {"metadata", {{"name", options_.provider_name}, {"namespace", options_.namespace_}}},
        {"spec", ToJson(options_.provider_spec)}};
    try {
      client_.Create(kProviderResource, options_.namespace_, provider);
    } catch (const kube::Error& again) {
      if (!again.IsAlreadyExists()) throw;
    }
  }
}

void Caches::StartInformers() {
  workloads_->Start();
  pods_->Start();
  providers_->Start();
  if (node_view_) node_view_->Start();
}

bool Caches::WaitForSync(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (auto* inf : {workloads_.get(), pods_.get(), providers_.get()}) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (!inf->WaitForSync(std::max(left, std::chrono::milliseconds(0)))) return false;
  }
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  return !node_view_ || node_view_->WaitForSync(std::max(left, std::chrono::milliseconds(0)));
}

void Caches::Stop() {
  for (auto* inf : {workloads_.get(), pods_.get(), providers_.get()}) {
    if (inf) inf->Stop();
  }
  if (node_view_) node_view_->Stop();
}

void Caches::Index(const kube::ObjectPtr& o, bool deleted) {
  std::string key = kube::ObjectKey(*o);
  if (deleted) {
    book_.Forget(key);
    return;
  }
  auto admission = AdmissionFromJson(*o);
  bool rejected =
      (*o).contains("status") && ParsePhase((*o)["status"].value("phase", "")) == Phase::kRejected;
  book_.Observe(key, kube::ResourceVersionNumber(*o),
                admission ? std::optional<Resources>(admission->charged) : std::nullopt, rejected);
}

ProviderSpec Caches::CurrentProviderSpec() {
  auto p = providers_->Get(options_.namespace_, options_.provider_name);
  return p ? ProviderFromJson(*p).spec : options_.provider_spec;
}

ControlPlane Caches::CurrentControlPlane() {
  auto p = providers_->Get(options_.namespace_, options_.provider_name);
  return p ? ProviderFromJson(*p).status.control_plane : ControlPlane{};
}

Resources Caches::Capacity(const ProviderSpec& spec) {
  if (!node_view_) return spec.capacity;
  Resources nodes = node_view_->Holdable();
  return {std::min(spec.capacity.cpu, nodes.cpu), std::min(spec.capacity.memory, nodes.memory),
          std::min(spec.capacity.gpu, nodes.gpu)};
}

Ledger Caches::CurrentLedger() { return book_.Compute(Capacity(CurrentProviderSpec()), false); }

}  // namespace iarnet
