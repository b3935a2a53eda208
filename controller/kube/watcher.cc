#include "kube/watcher.h"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "kube/error.h"
#include "kube/list_page.h"
#include "kube/log.h"

namespace kube {

Watcher::Watcher(Client& client, ResourceType type, std::string ns, Options options)
    : client_(client),
      type_(std::move(type)),
      ns_(std::move(ns)),
      options_(std::move(options)),
      backoff_(options_.backoff),
      rng_(std::random_device{}()) {}

Watcher::Stats Watcher::stats() const {
  Stats s{lists_.load(),  watches_.load(),   gone_.load(),     errors_.load(),
          events_.load(), bookmarks_.load(), streaming_.load()};
  s.resumed_at = std::chrono::system_clock::time_point(
      std::chrono::system_clock::duration(resumed_at_ns_.load()));
  return s;
}

Task<void> Watcher::ListOnce(Callbacks& cb) {
  ListOptions o;
  o.label_selector = options_.label_selector;
  o.field_selector = options_.field_selector;
  o.limit = options_.page_size;
  cb.list_begin();
  std::function<void(json)> item = [&](json object) {
    // List items carry no kind/apiVersion; watch events do. Make them alike.
    object["kind"] = type_.kind;
    object["apiVersion"] = type_.ApiVersion();
    cb.list_item(std::move(object));
  };
  for (;;) {
    HttpRequest request = requests::List(type_, ns_, o);  // a named local: see transport.h
    std::string body = co_await client_.CallRaw(std::move(request));
    if (stopped_) co_return;
    json page = ParseListPage(body, item, options_.skip_managed_fields);
    body = std::string();
    const json meta = page.value("metadata", json::object());
    std::string next = meta.value("continue", "");
    if (next.empty()) {
      resource_version_ = meta.value("resourceVersion", "");
      break;
    }
    o.continue_token = next;
    o.resource_version.clear();  // the continue token pins the version
  }
  ++lists_;
  cb.list_end();
}

Task<void> Watcher::WatchOnce(Callbacks& cb) {
  WatchOptions o;
  o.label_selector = options_.label_selector;
  o.field_selector = options_.field_selector;
  o.resource_version = resource_version_;
  o.allow_bookmarks = true;
  std::uniform_int_distribution<int> seconds(options_.min_watch_seconds,
                                             options_.max_watch_seconds);
  o.timeout_seconds = seconds(rng_);
  HttpRequest request = requests::Watch(type_, ns_, o);
  auto stream = co_await client_.transport().OpenStream(std::move(request), options_.idle_timeout);
  ++watches_;
  stream_ = stream.get();
  streaming_ = true;
  if (failed_) {
    resumed_at_ns_ = std::chrono::system_clock::now().time_since_epoch().count();
    failed_ = false;
  }
  struct Clear {
    LineStream*& s;
    std::atomic<bool>& streaming;
    ~Clear() {
      s = nullptr;
      streaming = false;
    }
  } clear{stream_, streaming_};
  if (stopped_) co_return;
  while (auto line = co_await stream->NextLine()) {
    json event = json::parse(*line, nullptr, /*allow_exceptions=*/false);
    if (!event.is_object() || !event.contains("type") || !event.contains("object")) {
      throw Error(ErrorKind::kProtocol, "watch " + type_.plural + ": malformed event");
    }
    const std::string type = event["type"].get<std::string>();
    json& object = event["object"];
    if (type == "ERROR") {
      int code = object.value("code", 0);
      throw ApiErrorFromResponse(code ? code : 500, object.dump(), "watch " + type_.plural);
    }
    std::string rv =
        object.contains("metadata") ? object["metadata"].value("resourceVersion", "") : "";
    if (type == "BOOKMARK") {
      ++bookmarks_;
      if (!rv.empty()) resource_version_ = rv;
      continue;
    }
    ++events_;
    if (type == "DELETED") {
      cb.deleted(std::move(object));
    } else {
      cb.applied(std::move(object));
    }
    if (!rv.empty()) resource_version_ = rv;
  }
}

Task<void> Watcher::Run(Callbacks cb) {
  bool listed = false;
  timer_ = std::make_unique<asio::steady_timer>(co_await asio::this_coro::executor);
  while (!stopped_) {
    try {
      if (!listed) {
        co_await ListOnce(cb);
        listed = true;
      }
      if (stopped_) break;
      co_await WatchOnce(cb);  // returns when the server ends the watch: resume at once
      continue;
    } catch (const Error& e) {
      if (stopped_ || e.kind() == ErrorKind::kCancelled) break;
      if (e.IsGone()) {
        // Our version is older than the server keeps: start over from a fresh list.
        ++gone_;
        failed_ = true;
        KLOG(kInfo, "watcher") << type_.plural << ": " << e.what() << "; relisting";
        listed = false;
        continue;
      }
      ++errors_;
      failed_ = true;
      auto wait = backoff_.Next(Clock::now());
      KLOG(kWarning, "watcher") << type_.plural << ": " << e.what() << "; retrying in "
                                << wait.count() << " ms";
      timer_->expires_after(wait);
    }
    boost::system::error_code ignored;
    co_await timer_->async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  }
}

void Watcher::Stop() {
  stopped_ = true;
  if (stream_) stream_->Cancel();
  if (timer_) timer_->cancel();
}

}  // namespace kube
