// List-then-watch of one resource type, kept going forever: resumes from the last
// resourceVersion after a broken connection (jittered backoff), asks for bookmarks so
// the version stays fresh, relists after 410 Gone, and stops cleanly. It keeps no
// cache: it reports what happened, and the informer builds state from that.
//
// Runs on the client's I/O thread; the callbacks run there too and must not block.
#pragma once

#include <atomic>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "kube/backoff.h"
#include "kube/client.h"

namespace kube {

class Watcher {
 public:
  struct Options {
    std::string label_selector;
    std::string field_selector;
    // Objects per list page; 0: the whole list in one answer. The API server serves a
    // list's first page from its watch cache but each `continue` page from etcd (~2x
    // slower per object here, plus a round trip each), so for a large list one answer
    // is several times faster; it costs the answer's bytes at once (never its DOM:
    // items are read one at a time).
    int64_t page_size = 500;
    // Pass over the listed objects' metadata.managedFields without building them (for
    // a consumer that drops them anyway; watch events still carry them).
    bool skip_managed_fields = false;
    // Longer than the API server's bookmark interval (about a minute), so a quiet but
    // healthy watch is never mistaken for a dead one.
    Millis idle_timeout{150000};
    // The server ends each watch after a random time in this range (seconds), as
    // client-go does, so that watches rebalance across API servers.
    int min_watch_seconds = 300;
    int max_watch_seconds = 600;
    Backoff::Options backoff;
  };

  struct Callbacks {
    // A (re)list, one object at a time as its pages arrive (so that a large list is
    // never held whole): list_begin, then list_item for each object, then list_end.
    // Together they are the complete current state. A list that fails part way is
    // started again from list_begin.
    std::function<void()> list_begin;
    std::function<void(json object)> list_item;
    std::function<void()> list_end;
    // An object was added or modified.
    std::function<void(json object)> applied;
    // An object was deleted (its last state).
    std::function<void(json object)> deleted;
  };

  struct Stats {
    uint64_t lists = 0;
    uint64_t watches = 0;  // watch requests opened
    uint64_t gone = 0;     // 410 Gone answers that forced a relist
    uint64_t errors = 0;   // other failures, retried with backoff
    uint64_t events = 0;
    uint64_t bookmarks = 0;
    // A watch stream is open now: events reach the cache as they happen. False while
    // listing, waiting out a backoff, or between two watches.
    bool streaming = false;
    // When a watch last opened after a failure (an error, or 410 Gone and a relist): what
    // the cache said before then may have gone stale unseen. Epoch when none.
    std::chrono::system_clock::time_point resumed_at{};
  };

  Watcher(Client& client, ResourceType type, std::string ns, Options options);

  // Lists and watches until Stop(). Run on the client's I/O thread.
  Task<void> Run(Callbacks callbacks);
  // Ends Run soon after (I/O thread).
  void Stop();

  const std::string& resource_version() const { return resource_version_; }
  Stats stats() const;

 private:
  Task<void> ListOnce(Callbacks& cb);
  Task<void> WatchOnce(Callbacks& cb);

  Client& client_;
  ResourceType type_;
  std::string ns_;
  Options options_;
  Backoff backoff_;
  std::string resource_version_;
  bool stopped_ = false;
  LineStream* stream_ = nullptr;  // the open watch, to cancel on Stop
  std::unique_ptr<asio::steady_timer> timer_;
  std::mt19937 rng_;
  // Written on the I/O thread, read by tests and metrics from others.
  std::atomic<uint64_t> lists_{0}, watches_{0}, gone_{0}, errors_{0}, events_{0}, bookmarks_{0};
  std::atomic<bool> streaming_{false};
  std::atomic<int64_t> resumed_at_ns_{0};  // Stats::resumed_at, as system_clock ticks
  bool failed_ = false;                    // I/O thread: the last attempt failed
};

}  // namespace kube
