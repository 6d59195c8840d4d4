// What a chart shows, apart from how it is drawn: panels of line series over a shared x axis,
// one legend entry (and colour) per series index, and notes for the reader.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "client/lib/plot/nice_scale.h"

namespace ft::client {

struct ChartPoint {
  double x = 0;
  double y = 0;
};

struct ChartSeries {
  std::vector<ChartPoint> points;  // in x order; only finite values (see AddFinitePoint)
};

struct ChartPanel {
  std::string title;
  std::string y_title;
  // series[i] belongs to Chart::legend[i]; an empty one draws nothing.
  std::vector<ChartSeries> series;
  bool markers = false;  // a dot on every point (for short series such as evaluations)
  // Keep the y axis inside these bounds (e.g. 0..100 for a percentage).
  std::optional<double> y_floor;
  std::optional<double> y_ceiling;
};

struct Chart {
  std::string title;
  std::string x_title;
  std::vector<std::string> legend;  // one entry per series index, drawn in its colour
  std::vector<ChartPanel> panels;
  std::vector<std::string> notes;  // shown under the legend, e.g. what was skipped
};

// Appends (x, y) when both are finite; returns false (and appends nothing) otherwise.
bool AddFinitePoint(ChartSeries& series, double x, double y);

// The x scale shared by every panel, over all their points.
NiceScale ChartXScale(const Chart& chart, int max_ticks);
// A panel's y scale over its points, kept within its floor and ceiling.
NiceScale PanelYScale(const ChartPanel& panel, int max_ticks);

// The number of points in all series of all panels.
size_t ChartPointCount(const Chart& chart);

}  // namespace ft::client
