// Records core/v1 Events about objects, as `kubectl describe` shows them. Repeats of the
// same event (same object, type, reason and message) within the aggregation window bump
// the count and lastTimestamp of one Event instead of creating new ones. Recording never
// blocks the caller and never throws: events are best effort.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "kube/client.h"

namespace kube {

class EventRecorder {
 public:
  // Repeats within `window` of the first are one Event; older series are forgotten, and
  // past `max_series` the least recently recorded are (client-go keeps an LRU of 4,096):
  // a storm of distinct events costs bounded memory, at worst a repeat of a forgotten
  // series becomes a new Event.
  // `now` tells the time the window is measured in (tests give a clock of their own).
  using Now = std::function<std::chrono::system_clock::time_point()>;
  EventRecorder(Client& client, std::string component, std::string instance = "",
                std::chrono::milliseconds window = std::chrono::minutes(10),
                size_t max_series = 4096, Now now = std::chrono::system_clock::now);

  // `object` is the involved object (kind, apiVersion and metadata are read from it).
  void Normal(const json& object, const std::string& reason, const std::string& message) {
    Record(object, "Normal", reason, message);
  }
  void Warning(const json& object, const std::string& reason, const std::string& message) {
    Record(object, "Warning", reason, message);
  }
  void Record(const json& object, const std::string& type, const std::string& reason,
              const std::string& message);

  // Waits until every recorded event has been written (tests, shutdown).
  void Flush();
  // The series remembered for aggregation (bounded: expired ones are dropped).
  size_t series() const;

 private:
  struct Series {
    std::string name;  // the Event object's name, once created
    std::string ns;
    int count = 0;    // what the API server has
    int pending = 0;  // recorded but not yet written
    bool in_flight = false;
    std::chrono::system_clock::time_point first, last;
  };
  Task<void> Write(std::string key, json involved, std::string type, std::string reason,
                   std::string message);

  Client& client_;
  std::string component_;
  std::string instance_;
  void DropExpiredLocked(std::chrono::system_clock::time_point now);

  std::chrono::milliseconds window_;
  size_t max_series_;
  Now now_;
  mutable std::mutex mu_;
  std::condition_variable idle_cv_;
  std::map<std::string, Series> series_;
  size_t prune_at_ = 1024;  // drop expired series when there are this many
  int in_flight_ = 0;
};

}  // namespace kube
