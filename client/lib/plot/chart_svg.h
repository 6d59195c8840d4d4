// Draws a Chart as a self-contained SVG document: the panels side by side, each with round ticks,
// grid and title, one coloured polyline per series (class "series"), the legend and the notes
// below. Nothing is fetched from elsewhere (no fonts, no scripts, no stylesheets).
#pragma once

#include <string>

#include "client/lib/plot/chart.h"

namespace ft::client {

std::string RenderChartSvg(const Chart& chart);

// The colour of series `index` ("#rrggbb"); colours repeat after 10 (drawn dashed then).
std::string SeriesColour(size_t index);

}  // namespace ft::client
