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

#include "packed_json.h"
#include "watcher.h"

namespace kube {

using ObjectPtr = std::shared_ptr<const json>;

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

  mutable std::mutex mu_;
  mutable std::condition_variable synced_cv_;
  // One cached object: the DOM, or (compact) its packed bytes.
  struct Stored {
    ObjectPtr object;
    std::string packed;  // a few hundred bytes: copied by readers, no shared block
    std::string version;
  };
  Stored Store(ObjectPtr object);
  ObjectPtr Load(const Stored& stored) const;
  JsonPacker packer_;  // the compact cache's dictionary
  std::unordered_map<std::string, Stored> cache_;
  std::map<std::string, std::set<std::string>> index_;  // "label=value" -> keys
  bool synced_ = false;
  // The newest resourceVersion the watch has delivered (a list's, or an event's): what
  // the cache is known to reflect.
  uint64_t delivered_version_ = 0;
  // The relist in progress (I/O thread only): the next cache, and the keys whose object
  // is new or changed in it.
  struct Relist {
    std::unordered_map<std::string, Stored> next;
    std::vector<std::string> changed;
  };
  std::unique_ptr<Relist> relist_;

  std::mutex run_mu_;
  std::condition_variable run_cv_;
  int running_ = 0;  // coroutines still running (watch loop, resync loop)
  std::atomic<bool> started_{false};
  std::unique_ptr<asio::steady_timer> resync_timer_;
};

}  // namespace kube
