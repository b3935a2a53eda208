#include "grpc-gateway/metrics.h"

#include <cmath>
#include <sstream>
#include <stdexcept>

namespace iarnet {
namespace {

std::string Escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string Render(const Labels& labels) {
  std::string out;
  for (const auto& [k, v] : labels) out += (out.empty() ? "" : ",") + k + "=\"" + Escape(v) + "\"";
  return out;
}

std::string Number(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  std::ostringstream s;
  s.precision(17);
  s << v;
  return s.str();
}

std::string WithLabels(const std::string& name, const std::string& labels,
                       const std::string& extra = "") {
  std::string all = labels;
  if (!extra.empty()) all += (all.empty() ? "" : ",") + extra;
  return all.empty() ? name : name + "{" + all + "}";
}

}  // namespace

const std::vector<double>& Metrics::LatencyBuckets() {
  static const std::vector<double> b = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                        1,     2.5,  5,     10,   30,  60};
  return b;
}

void Metrics::Define(const std::string& name, Type type, const std::string& help,
                     std::vector<double> buckets) {
  std::lock_guard<std::mutex> lock(mu_);
  families_[name] = Family{type, help, std::move(buckets), {}};
}

Metrics::Series& Metrics::SeriesLocked(const std::string& name, const Labels& labels) {
  auto f = families_.find(name);
  if (f == families_.end()) throw std::logic_error("metric " + name + " is not defined");
  Series& s = f->second.series[iarnet::Render(labels)];
  if (f->second.type == Type::kHistogram && s.bucket_counts.empty())
    s.bucket_counts.assign(f->second.buckets.size(), 0);
  return s;
}

void Metrics::Add(const std::string& name, const Labels& labels, double value) {
  std::lock_guard<std::mutex> lock(mu_);
  SeriesLocked(name, labels).value += value;
}

void Metrics::Set(const std::string& name, const Labels& labels, double value) {
  std::lock_guard<std::mutex> lock(mu_);
  SeriesLocked(name, labels).value = value;
}

void Metrics::Observe(const std::string& name, const Labels& labels, double value) {
  std::lock_guard<std::mutex> lock(mu_);
  Series& s = SeriesLocked(name, labels);
  const auto& bounds = families_[name].buckets;
  for (size_t i = 0; i < bounds.size(); ++i) {
    if (value <= bounds[i]) ++s.bucket_counts[i];
  }
  s.sum += value;
  ++s.count;
}

void Metrics::AddCollector(std::function<void(Metrics&)> collector) {
  std::lock_guard<std::mutex> lock(collect_mu_);
  collectors_.push_back(std::move(collector));
}

double Metrics::Value(const std::string& name, const Labels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  auto f = families_.find(name);
  if (f == families_.end()) return 0;
  auto s = f->second.series.find(iarnet::Render(labels));
  if (s == f->second.series.end()) return 0;
  return f->second.type == Type::kHistogram ? double(s->second.count) : s->second.value;
}

std::string Metrics::Render() {
  {
    std::lock_guard<std::mutex> lock(collect_mu_);
    for (auto& c : collectors_) c(*this);
  }
  std::lock_guard<std::mutex> lock(mu_);
  std::ostringstream out;
  for (const auto& [name, f] : families_) {
    const char* type = f.type == Type::kCounter ? "counter"
                       : f.type == Type::kGauge ? "gauge"
                                                : "histogram";
    out << "# HELP " << name << " " << f.help << "\n# TYPE " << name << " " << type << "\n";
    for (const auto& [labels, s] : f.series) {
      if (f.type != Type::kHistogram) {
        out << WithLabels(name, labels) << " " << Number(s.value) << "\n";
        continue;
      }
      // Bucket counts are cumulative already (each observation counts in every bucket
      // whose bound it is under).
      for (size_t i = 0; i < f.buckets.size(); ++i) {
        out << WithLabels(name + "_bucket", labels, "le=\"" + Number(f.buckets[i]) + "\"") << " "
            << s.bucket_counts[i] << "\n";
      }
      out << WithLabels(name + "_bucket", labels, "le=\"+Inf\"") << " " << s.count << "\n";
      out << WithLabels(name + "_sum", labels) << " " << Number(s.sum) << "\n";
      out << WithLabels(name + "_count", labels) << " " << s.count << "\n";
    }
  }
  return out.str();
}

}  // namespace iarnet
