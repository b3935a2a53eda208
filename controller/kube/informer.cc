#include "informer.h"

#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <future>

#include "log.h"

namespace kube {

std::string ObjectKey(const json& o) {
  const json& m = o.at("metadata");
  std::string ns = m.value("namespace", "");
  std::string name = m.value("name", "");
  return ns.empty() ? name : ns + "/" + name;
}

Informer::Informer(Client& client, ResourceType type, std::string ns, Options options)
    : client_(client),
      type_(type),
      options_(options),
      watcher_(client, type, std::move(ns), options.watch) {}

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
  Watcher::Callbacks cb{[this](std::vector<json> items) { Restarted(std::move(items)); },
                        [this](json o) { Applied(std::move(o)); },
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

namespace {
std::string Version(const json& o) { return o["metadata"].value("resourceVersion", ""); }
}  // namespace

void Informer::Restarted(std::vector<json> items) {
  struct Change {
    ObjectPtr old_object, new_object;
  };
  std::vector<Change> changes;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::unordered_map<std::string, ObjectPtr> next;
    next.reserve(items.size());
    for (auto& item : items) {
      Prepare(item);
      std::string key = ObjectKey(item);
      auto it = cache_.find(key);
      if (it != cache_.end() && Version(*it->second) == Version(item)) {
        next.emplace(key, it->second);  // unchanged: keep the same snapshot
        continue;
      }
      auto obj = std::make_shared<const json>(std::move(item));
      changes.push_back({it == cache_.end() ? nullptr : it->second, obj});
      next.emplace(key, std::move(obj));
    }
    // Objects that vanished while we were not watching: their deletion was missed.
    for (auto& [key, obj] : cache_) {
      if (!next.count(key)) changes.push_back({obj, nullptr});
    }
    cache_ = std::move(next);
    if (options_.on_store) {
      for (auto& c : changes) options_.on_store(c.old_object, c.new_object);
    }
    index_.clear();
    for (auto& [key, obj] : cache_) IndexLocked(key, *obj, true);
  }
  for (auto& c : changes) {
    for (auto& h : handlers_) {
      if (!c.old_object && h.on_add) h.on_add(c.new_object);
      if (c.old_object && c.new_object && h.on_update) h.on_update(c.old_object, c.new_object);
      if (!c.new_object && h.on_delete) h.on_delete(c.old_object);
    }
  }
  // Synced once the handlers have seen the list too: whatever they maintain (a work
  // queue, the controller's ledger index) is complete when WaitForSync returns.
  {
    std::lock_guard<std::mutex> lock(mu_);
    synced_ = true;
  }
  synced_cv_.notify_all();
}

void Informer::Prepare(json& object) const {
  if (options_.strip_managed_fields && object.contains("metadata"))
    object["metadata"].erase("managedFields");
  if (options_.transform) options_.transform(object);
}

void Informer::Applied(json object) {
  Prepare(object);
  std::string key = ObjectKey(object);
  auto obj = std::make_shared<const json>(std::move(object));
  ObjectPtr old;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      old = it->second;
      IndexLocked(key, *old, false);
      it->second = obj;
    } else {
      cache_.emplace(key, obj);
    }
    IndexLocked(key, *obj, true);
    if (options_.on_store) options_.on_store(old, obj);
  }
  for (auto& h : handlers_) {
    if (old && h.on_update) h.on_update(old, obj);
    if (!old && h.on_add) h.on_add(obj);
  }
}

void Informer::Deleted(json object) {
  Prepare(object);
  std::string key = ObjectKey(object);
  ObjectPtr last = std::make_shared<const json>(std::move(object));
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      IndexLocked(key, *it->second, false);
      if (options_.on_store) options_.on_store(it->second, nullptr);
      cache_.erase(it);
    }
  }
  for (auto& h : handlers_) {
    if (h.on_delete) h.on_delete(last);
  }
}

bool Informer::HasSynced() const {
  std::lock_guard<std::mutex> lock(mu_);
  return synced_;
}

bool Informer::WaitForSync(Millis timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return synced_cv_.wait_for(lock, timeout, [this] { return synced_; });
}

ObjectPtr Informer::Get(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = cache_.find(key);
  return it == cache_.end() ? nullptr : it->second;
}

ObjectPtr Informer::Get(const std::string& ns, const std::string& name) const {
  return Get(ns.empty() ? name : ns + "/" + name);
}

std::vector<ObjectPtr> Informer::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ObjectPtr> out;
  out.reserve(cache_.size());
  for (auto& [key, obj] : cache_) out.push_back(obj);
  return out;
}

std::vector<ObjectPtr> Informer::ByLabel(const std::string& key, const std::string& value) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ObjectPtr> out;
  auto it = index_.find(key + "=" + value);
  if (it == index_.end()) return out;
  for (const auto& k : it->second) out.push_back(cache_.at(k));
  return out;
}

size_t Informer::Size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cache_.size();
}

}  // namespace kube
