// Metrics: counters, gauges and histograms with labels, served at /metrics
// in the Prometheus text format (version 0.0.4).
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace stash {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class Metrics {
 public:
  // Declares a family; must come before its first use.
  void Counter(const std::string& name, const std::string& help);
  void Gauge(const std::string& name, const std::string& help);
  void Histogram(const std::string& name, const std::string& help, std::vector<double> buckets);

  void Add(const std::string& name, const MetricLabels& labels, double delta = 1);
  void Set(const std::string& name, const MetricLabels& labels, double value);
  void Observe(const std::string& name, const MetricLabels& labels, double value);

  // Runs before each scrape, to set gauges read from elsewhere.
  void OnScrape(std::function<void(Metrics&)> collector);

  // The exposition text, families and series in name order.
  std::string Render();
  double Value(const std::string& name, const MetricLabels& labels);

 private:
  struct Series {
    double value = 0;
    std::vector<uint64_t> bucket_counts;
    double sum = 0;
    uint64_t count = 0;
  };
  struct Family {
    std::string type, help;
    std::vector<double> buckets;
    std::map<std::string, Series> series;  // rendered label set -> series
  };
  Series& SeriesFor(const std::string& name, const MetricLabels& labels);

  std::mutex mu_;
  std::map<std::string, Family> families_;
  std::vector<std::function<void(Metrics&)>> collectors_;
};

}  // namespace stash
