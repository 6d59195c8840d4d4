#include "client/lib/plot/chart.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ft::client {
namespace {

struct Range {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -std::numeric_limits<double>::infinity();
  void Add(double v) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  bool empty() const { return lo > hi; }
};

}  // namespace

bool AddFinitePoint(ChartSeries& series, double x, double y) {
  if (!std::isfinite(x) || !std::isfinite(y)) return false;
  series.points.push_back({x, y});
  return true;
}

NiceScale ChartXScale(const Chart& chart, int max_ticks) {
  Range range;
  for (const ChartPanel& panel : chart.panels) {
    for (const ChartSeries& series : panel.series) {
      for (const ChartPoint& point : series.points) range.Add(point.x);
    }
  }
  if (range.empty()) return MakeNiceScale(0, 1, max_ticks);
  // Steps and examples start at 0: show where training began.
  return MakeNiceScale(std::min(range.lo, 0.0), range.hi, max_ticks);
}

NiceScale PanelYScale(const ChartPanel& panel, int max_ticks) {
  Range range;
  for (const ChartSeries& series : panel.series) {
    for (const ChartPoint& point : series.points) range.Add(point.y);
  }
  if (range.empty()) {
    range.Add(panel.y_floor.value_or(0));
    range.Add(panel.y_ceiling.value_or(1));
  }
  NiceScale scale = MakeNiceScale(range.lo, range.hi, max_ticks);
  // Round ticks may overshoot the bounds (a 0..100 % axis never needs 110 %): cut the axis there.
  if (panel.y_floor && scale.min < *panel.y_floor) scale.min = *panel.y_floor;
  if (panel.y_ceiling && scale.max > *panel.y_ceiling) scale.max = *panel.y_ceiling;
  scale.ticks.erase(std::remove_if(scale.ticks.begin(), scale.ticks.end(),
                                   [&](double t) { return t < scale.min || t > scale.max; }),
                    scale.ticks.end());
  return scale;
}

size_t ChartPointCount(const Chart& chart) {
  size_t count = 0;
  for (const ChartPanel& panel : chart.panels) {
    for (const ChartSeries& series : panel.series) count += series.points.size();
  }
  return count;
}

}  // namespace ft::client
