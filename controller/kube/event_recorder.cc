#include "kube/event_recorder.h"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <iomanip>
#include <sstream>

#include "kube/error.h"
#include "kube/log.h"
#include "kube/time_format.h"

namespace kube {
// Like client-go's aggregation window (10 minutes by default): a repeat after the window
// starts a new Event, so a series older than that is only kept while it is written.
EventRecorder::EventRecorder(Client& client, std::string component, std::string instance,
                             std::chrono::milliseconds window, size_t max_series, Now now)
    : client_(client),
      component_(std::move(component)),
      instance_(std::move(instance)),
      window_(window),
      max_series_(std::max<size_t>(1, max_series)),
      now_(std::move(now)) {
  prune_at_ = std::min(prune_at_, max_series_);
}

void EventRecorder::DropExpiredLocked(std::chrono::system_clock::time_point now) {
  for (auto it = series_.begin(); it != series_.end();) {
    if (!it->second.in_flight && now - it->second.first > window_)
      it = series_.erase(it);
    else
      ++it;
  }
  if (series_.size() >= max_series_) {
    // Forget the least recently recorded down to 3/4 of the cap (not those being written).
    std::vector<std::map<std::string, Series>::iterator> idle;
    for (auto it = series_.begin(); it != series_.end(); ++it) {
      if (!it->second.in_flight) idle.push_back(it);
    }
    size_t excess = std::min(idle.size(), series_.size() - max_series_ * 3 / 4);
    std::nth_element(idle.begin(), idle.begin() + excess, idle.end(),
                     [](const auto& a, const auto& b) { return a->second.last < b->second.last; });
    for (size_t i = 0; i < excess; ++i) series_.erase(idle[i]);
  }
  // Amortized: the next pass when the map has doubled (or reaches the cap), so a record
  // costs O(1) on average.
  prune_at_ = std::max(series_.size() + std::max<size_t>(1, max_series_ / 4),
                       std::min(max_series_, std::max<size_t>(1024, series_.size() * 2)));
}

size_t EventRecorder::series() const {
  std::lock_guard<std::mutex> lock(mu_);
  return series_.size();
}

void EventRecorder::Record(const json& object, const std::string& type, const std::string& reason,
                           const std::string& message) {
  const json& meta = object.value("metadata", json::object());
  json involved = {
      {"kind", object.value("kind", "")}, {"apiVersion", object.value("apiVersion", "")},
      {"name", meta.value("name", "")},   {"namespace", meta.value("namespace", "")},
      {"uid", meta.value("uid", "")},     {"resourceVersion", meta.value("resourceVersion", "")}};
  std::string key =
      involved["uid"].get<std::string>() + "\x1f" + type + "\x1f" + reason + "\x1f" + message;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto now = now_();
    if (series_.size() >= prune_at_) DropExpiredLocked(now);
    auto& s = series_[key];
    if (s.count > 0 && now - s.first > window_ && !s.in_flight) s = Series{};
    ++s.pending;
    s.last = now;
    if (s.count == 0 && !s.in_flight) s.first = now;
    if (s.in_flight) return;  // the writer picks the pending repeat up when it is done
    s.in_flight = true;
    ++in_flight_;
  }
  asio::co_spawn(client_.transport().io(), Write(key, involved, type, reason, message),
                 asio::detached);
}

Task<void> EventRecorder::Write(std::string key, json involved, std::string type,
                                std::string reason, std::string message) {
  for (;;) {
    Series s;
    {
      std::lock_guard<std::mutex> lock(mu_);
      s = series_[key];
    }
    const std::string ns = involved["namespace"].get<std::string>().empty()
                               ? "default"
                               : involved["namespace"].get<std::string>();
    int total = s.count + s.pending;
    try {
      if (s.name.empty()) {
        std::ostringstream name;
        name << involved["name"].get<std::string>() << "." << std::hex
             << std::chrono::duration_cast<std::chrono::nanoseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
        json event = {{"apiVersion", "v1"},
                      {"kind", "Event"},
                      {"metadata", {{"name", name.str()}, {"namespace", ns}}},
                      {"involvedObject", involved},
                      {"reason", reason},
                      {"message", message.substr(0, 1024)},
                      {"type", type},
                      {"count", total},
                      {"firstTimestamp", FormatTime(s.first)},
                      {"lastTimestamp", FormatTime(s.last)},
                      {"source", {{"component", component_}}},
                      {"reportingComponent", component_},
                      {"reportingInstance", instance_}};
        HttpRequest create = requests::Create(resources::kEvents, ns, event);
        co_await client_.Call(std::move(create));
        s.name = name.str();
      } else {
        json patch = {{"count", total}, {"lastTimestamp", FormatTime(s.last)}};
        HttpRequest update =
            requests::Patch(resources::kEvents, ns, s.name, PatchType::kMerge, patch.dump());
        co_await client_.Call(std::move(update));
      }
    } catch (const Error& e) {
      if (e.IsNotFound()) s.name.clear();  // the Event expired: start a new one next time
      KLOG(kDebug, "events") << "event " << reason << ": " << e.what();
    } catch (const std::exception& e) {
      KLOG(kDebug, "events") << "event " << reason << ": " << e.what();
    }
    std::lock_guard<std::mutex> lock(mu_);
    auto& live = series_[key];
    live.name = s.name;
    live.ns = ns;
    live.pending -= s.pending;
    live.count = total;
    if (live.pending <= 0 || client_.transport().io().stopped()) {
      live.in_flight = false;
      --in_flight_;
      idle_cv_.notify_all();
      co_return;
    }
  }
}

void EventRecorder::Flush() {
  std::unique_lock<std::mutex> lock(mu_);
  idle_cv_.wait_for(lock, std::chrono::seconds(30), [this] { return in_flight_ == 0; });
}

}  // namespace kube
