// Load test: percentiles of a set of durations (nearest rank), in milliseconds.
#pragma once

#include <string>
#include <vector>

namespace ft::load {

class LatencyStats {
 public:
  void Add(double ms) { samples_.push_back(ms); }
  void Merge(const LatencyStats& other);
  size_t count() const { return samples_.size(); }
  // The smallest sample with at least `p` percent of the samples at or below it (0 when empty).
  double Percentile(double p) const;
  double Max() const;
  // "p50 1.2 ms, p90 ..., p99 ..., max ..." (the percentiles given).
  std::string Summary(const std::vector<double>& percentiles) const;

 private:
  mutable std::vector<double> samples_;
  mutable bool sorted_ = false;
};

}  // namespace ft::load
