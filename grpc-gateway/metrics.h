// A small Prometheus registry: counters, gauges and histograms with labels, rendered in
// the text exposition format (version 0.0.4). Thread-safe. Gauges that mirror state
// elsewhere (the ledger, the work queue) are refreshed by collectors at scrape time.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace iarnet {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Metrics {
 public:
  enum class Type { kCounter, kGauge, kHistogram };

  // Declares a family; `buckets` (upper bounds, ascending) for histograms only.
  void Define(const std::string& name, Type type, const std::string& help,
              std::vector<double> buckets = {});
  void Add(const std::string& name, const Labels& labels, double value = 1);  // counter
  void Set(const std::string& name, const Labels& labels, double value);      // gauge
  void Observe(const std::string& name, const Labels& labels, double value);  // histogram
  // Runs before each Render, to Set gauges from their sources.
  void AddCollector(std::function<void(Metrics&)> collector);

  std::string Render();
  // A series' current value (counter or gauge), or the count of a histogram; 0 if absent.
  double Value(const std::string& name, const Labels& labels);

  static const std::vector<double>& LatencyBuckets();  // 5 ms .. 60 s, seconds

 private:
  struct Series {
    double value = 0;
    std::vector<uint64_t> bucket_counts;
    double sum = 0;
    uint64_t count = 0;
  };
  struct Family {
    Type type;
    std::string help;
    std::vector<double> buckets;
    std::map<std::string, Series> series;  // rendered label set -> series
  };
  Series& SeriesLocked(const std::string& name, const Labels& labels);

  std::mutex mu_;
  std::map<std::string, Family> families_;
  std::vector<std::function<void(Metrics&)>> collectors_;
  std::mutex collect_mu_;
};

}  // namespace iarnet
