// An informer: a Watcher feeding a thread-safe cache of one resource type, keyed by
// "namespace/name" with optional label indexes, plus event handlers and a "synced"
// signal. Readers on any thread see immutable snapshots of objects (shared_ptr<const>).
//
// Handlers run on the client's I/O thread, after the cache reflects the change (or, for
// a write of ours put in with Assume, on the thread that calls Assume); they must not
// block (the usual handler just adds a key to a WorkQueue).
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <unordered_map>

#include "kube/object_store.h"
#include "kube/packed_json.h"
#include "kube/watcher.h"

namespace kube {

// "namespace/name", or "name" for cluster-scoped objects.
std::string ObjectKey(const json& object);

class Informer {
 public:
  struct Handlers {
    std::function<void(const ObjectPtr&)> on_add;
    std::function<void(const ObjectPtr& old_object, const ObjectPtr& new_object)> on_update;
    std::function<void(const ObjectPtr&)> on_delete;
  };

  struct Options {
    Watcher::Options watch;
    // Re-deliver every cached object as an update this often (0: never).
    Millis resync{0};
    // Label keys to index (ByLabel).
    std::vector<std::string> index_labels;
    // Drop metadata.managedFields on the way in: large, and of no use to controllers.
    bool strip_managed_fields = true;
    // Reduces each object before it is cached (client-go's SetTransform): keep only
    // what the readers use, since the cache is most of a controller's memory.
    std::function<void(json&)> transform;
    // Called with the cache's lock held as each object enters, changes or leaves the
    // cache (`after` null: removed), for indexes that must never lag the cache. Must be
    // quick, and must not take a lock that is held while calling into this informer.
    std::function<void(const ObjectPtr& before, const ObjectPtr& after)> on_store;
    // Keep each object packed (packed_json.h) and decode it on every read: a json DOM
    // costs ~7.5x the object's size, which for thousands of objects is most of a
    // controller's memory; decoding costs microseconds per read.
    bool compact = false;
    // Called on the watch thread after each (re)list has been merged and delivered: the
    // list's transient memory is free by then, so it is where an application that
    // manages its allocator's memory (malloc_trim) gives the freed pages back.
    std::function<void()> after_relist;
  };

  Informer(Client& client, ResourceType type, std::string ns, Options options);
  Informer(Client& client, ResourceType type, std::string ns)
      : Informer(client, std::move(type), std::move(ns), Options{}) {}
  ~Informer();
  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;

  void AddHandlers(Handlers handlers);  // before Start
  void Start();
  // Stops watching and waits for the watch loop to end (not from the I/O thread).
  void Stop();

  // True once the first list is in the cache and every handler has seen it.
  bool HasSynced() const;
  bool WaitForSync(Millis timeout) const;

  ObjectPtr Get(const std::string& key) const;
  ObjectPtr Get(const std::string& ns, const std::string& name) const;
  std::vector<ObjectPtr> List() const;
  std::vector<ObjectPtr> ByLabel(const std::string& key, const std::string& value) const;
  size_t Size() const;
  // The cached object's resourceVersion, without decoding it ("" when absent).
  std::string Version(const std::string& key) const;

  // Puts an object that one of our writes just returned into the cache before the
  // watch brings it (client-go's MutationCache), so that the next reconcile, and whoever
  // waits on the cache, sees our own write at once instead of a watch delivery later.
  // Handlers and on_store run as for a watch event, on the calling thread. Refused
  // (false) when the watch has already delivered that version or a later one (the cache
  // then has it, something newer, or its deletion), and until the first list is in.
  // The watch's own event for the same version is then a no-op.
  bool Assume(json object);

  Watcher::Stats watch_stats() const { return watcher_.stats(); }
  const ResourceType& type() const { return type_; }

 private:
  // A relist, as the watcher reports it: the objects gather beside the cache, which
  // is replaced when the list ends (handlers then see what changed).
  void ListBegin();
  void ListItem(json object);
  void ListEnd();
  void Prepare(json& object) const;  // strip managedFields, then the transform
  void Applied(json object) { Apply(std::move(object), false); }
  bool Apply(json object, bool assumed);
  void Deleted(json object);
  // Calls the handlers for one change: added (no before), updated, or deleted (no after).
  void Deliver(const ObjectPtr& before, const ObjectPtr& after);
  void IndexLocked(const std::string& key, const json& object, bool add);
  Task<void> ResyncLoop();

  Client& client_;
  ResourceType type_;
  Options options_;
  Watcher watcher_;
  std::vector<Handlers> handlers_;

  using Stored = ObjectStore::Stored;
  Stored Store(ObjectPtr object);
  ObjectPtr Load(const Stored& stored) const;
  // Index, on_store and the handlers for changes the store made (after the lock for the
  // handlers).
  void StoreChangedLocked(const ObjectStore::Change& c, const ObjectPtr& before,
                          const ObjectPtr& after);

  // mu_ guards store_, index_ and the packer's dictionary; on_store runs inside it.
  // Handlers run outside it.
  mutable std::mutex mu_;
  mutable std::condition_variable synced_cv_;
  JsonPacker packer_;  // the compact cache's dictionary
  ObjectStore store_;
  std::map<std::string, std::set<std::string>> index_;  // "label=value" -> keys

  std::mutex run_mu_;
  std::condition_variable run_cv_;
  int running_ = 0;  // coroutines still running (watch loop, resync loop)
  std::atomic<bool> started_{false};
  std::unique_ptr<asio::steady_timer> resync_timer_;
};

}  // namespace kube
