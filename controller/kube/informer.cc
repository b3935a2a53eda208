#include "kube/informer.h"

#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <future>
#include <optional>

#include "kube/log.h"

namespace kube {

std::string ObjectKey(const json& o) {
  const json& m = o.at("metadata");
  std::string ns = m.value("namespace", "");
  std::string name = m.value("name", "");
  return ns.empty() ? name : ns + "/" + name;
}

namespace {
Watcher::Options WatchOptionsOf(const Informer::Options& o) {
  Watcher::Options w = o.watch;
  w.skip_managed_fields = w.skip_managed_fields || o.strip_managed_fields;
  return w;
}
}  // namespace

Informer::Informer(Client& client, ResourceType type, std::string ns, Options options)
    : client_(client),
      type_(type),
      options_(options),
      watcher_(client, type, std::move(ns), WatchOptionsOf(options)) {}

Informer::~Informer() { Stop(); }

void Informer::AddHandlers(Handlers handlers) { handlers_.push_back(std::move(handlers)); }

void Informer::Start() {
  if (started_) return;
  started_ = true;
  auto done = [this](std::exception_ptr e) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        KLOG(kError, "informer") << type_.plural << ": loop ended: " << ex.what();
      }
    }
    std::lock_guard<std::mutex> lock(run_mu_);
    --running_;
    run_cv_.notify_all();
  };
  running_ = options_.resync > Millis(0) ? 2 : 1;
  Watcher::Callbacks cb{[this] { ListBegin(); }, [this](json o) { ListItem(std::move(o)); },
                        [this] { ListEnd(); }, [this](json o) { Applied(std::move(o)); },
                        [this](json o) { Deleted(std::move(o)); }};
  asio::co_spawn(client_.transport().io(), watcher_.Run(std::move(cb)), done);
  if (options_.resync > Millis(0)) {
    resync_timer_ = std::make_unique<asio::steady_timer>(client_.transport().io());
    asio::co_spawn(client_.transport().io(), ResyncLoop(), done);
  }
}

void Informer::Stop() {
  if (!started_) return;
  started_ = false;
  asio::post(client_.transport().io(), [this] {
    watcher_.Stop();
    if (resync_timer_) resync_timer_->cancel();
  });
  std::unique_lock<std::mutex> lock(run_mu_);
  // If the transport is already shut down the loops were abandoned with it.
  run_cv_.wait_for(lock, std::chrono::seconds(10), [this] { return running_ == 0; });
}

Task<void> Informer::ResyncLoop() {
  while (started_) {
    resync_timer_->expires_after(options_.resync);
    boost::system::error_code ec;
    co_await resync_timer_->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (ec || !started_) break;
    for (const auto& o : List()) {
      for (auto& h : handlers_) {
        if (h.on_update) h.on_update(o, o);
      }
    }
  }
}

void Informer::IndexLocked(const std::string& key, const json& object, bool add) {
  if (options_.index_labels.empty()) return;
  const json* labels = nullptr;
  if (object.contains("metadata") && object["metadata"].contains("labels")) {
    labels = &object["metadata"]["labels"];
  }
  if (!labels || !labels->is_object()) return;
  for (const auto& l : options_.index_labels) {
    auto it = labels->find(l);
    if (it == labels->end() || !it->is_string()) continue;
    std::string ik = l + "=" + it->get<std::string>();
    if (add) {
      index_[ik].insert(key);
    } else if (auto s = index_.find(ik); s != index_.end()) {
      s->second.erase(key);
      if (s->second.empty()) index_.erase(s);
    }
  }
}

void Informer::ListBegin() {
  std::lock_guard<std::mutex> lock(mu_);
  store_.ListBegin();
}

void Informer::ListItem(json item) {
  // Each object is reduced and packed as it arrives, so the list's DOM never piles up.
  Prepare(item);
  std::string key = ObjectKey(item);
  std::string version = item["metadata"].value("resourceVersion", "");
  std::lock_guard<std::mutex> lock(mu_);
  if (const Stored* same = store_.Unchanged(key, version)) {
    store_.Listed(key, *same, false);  // unchanged: the same snapshot
    return;
  }
  store_.Listed(key, Store(std::make_shared<const json>(std::move(item))), true);
}

void Informer::ListEnd() {
  std::vector<ObjectStore::Change> changes;
  {
    std::lock_guard<std::mutex> lock(mu_);
    changes = store_.ListEnd(watcher_.resource_version());
    // Decoded one change at a time: a relist of thousands never holds them all as DOM.
    if (options_.on_store) {
      for (auto& c : changes) {
        options_.on_store(c.before ? Load(*c.before) : nullptr, c.after ? Load(*c.after) : nullptr);
      }
    }
    index_.clear();
    if (!options_.index_labels.empty()) {
      for (auto& [key, stored] : store_.entries()) IndexLocked(key, *Load(stored), true);
    }
  }
  for (auto& c : changes) {
    Deliver(c.before ? Load(*c.before) : nullptr, c.after ? Load(*c.after) : nullptr);
  }
  changes.clear();
  if (options_.after_relist) options_.after_relist();
  // Synced once the handlers have seen the list too: whatever they maintain (a work
  // queue, the controller's ledger index) is complete when WaitForSync returns.
  {
    std::lock_guard<std::mutex> lock(mu_);
    store_.SetSynced();
  }
  synced_cv_.notify_all();
}

void Informer::Prepare(json& object) const {
  if (options_.strip_managed_fields && object.contains("metadata"))
    object["metadata"].erase("managedFields");
  if (options_.transform) options_.transform(object);
}

void Informer::StoreChangedLocked(const ObjectStore::Change& c, const ObjectPtr& before,
                                  const ObjectPtr& after) {
  if (before) IndexLocked(c.key, *before, false);
  if (after) IndexLocked(c.key, *after, true);
  if (options_.on_store) options_.on_store(before, after);
}

bool Informer::Apply(json object, bool assumed) {
  Prepare(object);
  std::string key = ObjectKey(object);
  auto obj = std::make_shared<const json>(std::move(object));
  ObjectPtr old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Packed only when the store takes it: a watch event catching up to a write of ours
    // assumed earlier is dropped unpacked.
    std::string version = (*obj)["metadata"].value("resourceVersion", "");
    auto make = [&] { return Store(obj); };
    auto change = assumed ? store_.Assumed(key, version, make) : store_.Watched(key, version, make);
    // Refused (assumed), or the watch catching up to a write of ours assumed earlier.
    if (!change) return !assumed;
    if (change->before) old = Load(*change->before);
    StoreChangedLocked(*change, old, obj);
  }
  Deliver(old, obj);
  return true;
}

bool Informer::Assume(json object) {
  if (!object.is_object() || !object.contains("metadata")) return false;
  return Apply(std::move(object), true);
}

void Informer::Deleted(json object) {
  Prepare(object);
  std::string key = ObjectKey(object);
  std::string version = object["metadata"].value("resourceVersion", "");
  ObjectPtr last = std::make_shared<const json>(std::move(object));
  {
    std::lock_guard<std::mutex> lock(mu_);
    ObjectStore::Change change = store_.Deleted(key, version);
    if (change.before) StoreChangedLocked(change, Load(*change.before), nullptr);
  }
  Deliver(last, nullptr);
}

void Informer::Deliver(const ObjectPtr& before, const ObjectPtr& after) {
  for (auto& h : handlers_) {
    if (!before && h.on_add) h.on_add(after);
    if (before && after && h.on_update) h.on_update(before, after);
    if (!after && h.on_delete) h.on_delete(before);
  }
}

bool Informer::HasSynced() const {
  std::lock_guard<std::mutex> lock(mu_);
  return store_.synced();
}

bool Informer::WaitForSync(Millis timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return synced_cv_.wait_for(lock, timeout, [this] { return store_.synced(); });
}

Informer::Stored Informer::Store(ObjectPtr object) {
  Stored s;
  s.version = (*object)["metadata"].value("resourceVersion", "");
  if (options_.compact) {
    s.packed = packer_.Pack(*object);
    s.packed.shrink_to_fit();
  } else {
    s.object = std::move(object);
  }
  return s;
}

ObjectPtr Informer::Load(const Stored& s) const {
  if (s.object) return s.object;
  return std::make_shared<const json>(packer_.Unpack(s.packed));
}

// Readers copy the stored pointers under the lock and decode outside it, so that a
// large List never holds up the watch.
ObjectPtr Informer::Get(const std::string& key) const {
  Stored s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const Stored* found = store_.Find(key);
    if (!found) return nullptr;
    s = *found;
  }
  return Load(s);
}

ObjectPtr Informer::Get(const std::string& ns, const std::string& name) const {
  return Get(ns.empty() ? name : ns + "/" + name);
}

std::vector<ObjectPtr> Informer::List() const {
  std::vector<Stored> stored;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stored.reserve(store_.entries().size());
    for (auto& [key, s] : store_.entries()) stored.push_back(s);
  }
  std::vector<ObjectPtr> out;
  out.reserve(stored.size());
  for (const auto& s : stored) out.push_back(Load(s));
  return out;
}

std::vector<ObjectPtr> Informer::ByLabel(const std::string& key, const std::string& value) const {
  std::vector<Stored> stored;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = index_.find(key + "=" + value);
    if (it == index_.end()) return {};
    for (const auto& k : it->second) stored.push_back(*store_.Find(k));
  }
  std::vector<ObjectPtr> out;
  for (const auto& s : stored) out.push_back(Load(s));
  return out;
}

size_t Informer::Size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return store_.entries().size();
}

std::string Informer::Version(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  const Stored* found = store_.Find(key);
  return found ? found->version : "";
}

}  // namespace kube
