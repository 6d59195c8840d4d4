#include "tests/load/latency_stats.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace ft::load {

void LatencyStats::Merge(const LatencyStats& other) {
  samples_.insert(samples_.end(), other.samples_.begin(), other.samples_.end());
  sorted_ = false;
}

double LatencyStats::Percentile(double p) const {
  if (samples_.empty()) return 0;
  if (!sorted_) {
    std::sort(samples_.begin(), samples_.end());
    sorted_ = true;
  }
  const double rank = std::ceil(p / 100.0 * static_cast<double>(samples_.size()));
  const size_t index = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  return samples_[std::min(index, samples_.size() - 1)];
}

double LatencyStats::Max() const {
  return samples_.empty() ? 0 : *std::max_element(samples_.begin(), samples_.end());
}

std::string LatencyStats::Summary(const std::vector<double>& percentiles) const {
  std::string text;
  char buffer[64];
  for (double p : percentiles) {
    std::snprintf(buffer, sizeof(buffer), "p%g %.1f ms, ", p, Percentile(p));
    text += buffer;
  }
  std::snprintf(buffer, sizeof(buffer), "max %.1f ms (n=%zu)", Max(), samples_.size());
  return text + buffer;
}

}  // namespace ft::load
