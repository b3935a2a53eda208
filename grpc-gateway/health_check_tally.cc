#include "grpc-gateway/health_check_tally.h"

#include "kube/text.h"

namespace iarnet {
namespace {

std::string Counts(const std::map<std::string, uint64_t>& by_id) {
  std::string out;
  for (const auto& [id, n] : by_id) {
    out += (out.empty() ? "" : ", ") + std::to_string(n) + " from " + kube::Quoted(id, 128);
  }
  return out;
}

}  // namespace

std::vector<std::string> HealthCheckTally::Lines(Time now, const std::string& connected) {
  std::vector<std::string> lines;
  if (!started_) {
    started_ = true;
    since_ = now;
    connected_ = connected;
  } else if (connected != connected_) {
    if (connected.empty()) {
      lines.push_back("control plane " + kube::Quoted(connected_, 128) +
                      " is no longer connected: no health check within the timeout");
    } else if (!connected_.empty()) {
      lines.push_back("control plane " + kube::Quoted(connected, 128) + " took over from " +
                      kube::Quoted(connected_, 128));
    }
    connected_ = connected;
  }
  if (now - since_ < period_) return lines;
  auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now - since_).count();
  std::string line = "health checks in the last " + std::to_string(seconds) + " s: ";
  if (answered_.empty() && refused_.empty()) {
    line += "none";
  } else {
    line += answered_.empty() ? "none answered" : "answered " + Counts(answered_);
    if (!refused_.empty()) line += "; refused " + Counts(refused_);
  }
  line += connected.empty() ? "; no control plane connected"
                            : "; connected: " + kube::Quoted(connected, 128);
  lines.push_back(line);
  answered_.clear();
  refused_.clear();
  since_ = now;
  return lines;
}

}  // namespace iarnet
