// What the provider says in its log about the control plane's health checks: they come
// every few seconds, so one line each would drown everything else and none at all would
// leave an operator guessing. The tally counts them and yields one summary per period,
// and a line whenever the connected control plane changes (connected, gone silent, taken
// over). Pure: the caller passes the time and the connected id, and writes the lines.
//
// Threads: not thread-safe; ProviderService guards it with its own mutex.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace iarnet {

class HealthCheckTally {
 public:
  using Time = std::chrono::system_clock::time_point;
  explicit HealthCheckTally(std::chrono::milliseconds period = std::chrono::seconds(60))
      : period_(period) {}

  // A Connect, Disconnect or slot taken by a check changed the connection and said so in
  // its own line: `connected` is the new id, with no line of the tally's.
  void Set(const std::string& connected) { connected_ = connected; }
  void Answered(const std::string& provider_id) { ++answered_[provider_id]; }
  void Refused(const std::string& provider_id) { ++refused_[provider_id]; }

  // The lines to log at `now`, with `connected` the id the provider counts as connected
  // ("" for none): a change of it, and the summary once `period` has passed since the
  // last one (the counts then start over).
  std::vector<std::string> Lines(Time now, const std::string& connected);

 private:
  std::chrono::milliseconds period_;
  std::map<std::string, uint64_t> answered_, refused_;
  bool started_ = false;
  Time since_{};
  std::string connected_;
};

}  // namespace iarnet
