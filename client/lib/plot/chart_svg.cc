#include "client/lib/plot/chart_svg.h"

#include <algorithm>
#include <array>

#include "absl/strings/str_cat.h"
#include "client/lib/plot/svg_writer.h"

namespace ft::client {
namespace {

// Layout in pixels.
constexpr double kPanelWidth = 480;
constexpr double kPlotLeft = 64;   // room for the y tick labels
constexpr double kPlotRight = 24;  // room for the last x tick label
constexpr double kPlotTop = 72;    // chart title, panel title
constexpr double kPlotHeight = 280;
constexpr double kLegendTop = kPlotTop + kPlotHeight + 64;  // below tick labels and x title
constexpr double kLegendLine = 22;
constexpr double kNoteLine = 18;
constexpr int kMaxXTicks = 6;
constexpr int kMaxYTicks = 7;

constexpr std::array<const char*, 10> kPalette = {"#1f6fb4", "#e3672b", "#2e9a47", "#c9303b",
                                                  "#7b59b0", "#8a5a44", "#d44fa8", "#6b6b6b",
                                                  "#a8a82a", "#1fa9b8"};

// Maps data to pixels inside one panel's plot area.
struct Frame {
  double left, top, width, height;
  NiceScale x, y;
  double X(double v) const {
    return x.max > x.min ? left + (v - x.min) / (x.max - x.min) * width : left;
  }
  double Y(double v) const {
    return y.max > y.min ? top + height - (v - y.min) / (y.max - y.min) * height : top + height;
  }
};

void DrawAxes(SvgWriter& svg, const Frame& f) {
  svg.Open("g", {{"class", "axes"}, {"font-size", "11"}, {"fill", "#333333"}});
  for (double tick : f.y.ticks) {
    const std::string y = SvgNumber(f.Y(tick));
    svg.Element("line", {{"x1", SvgNumber(f.left)},
                         {"x2", SvgNumber(f.left + f.width)},
                         {"y1", y},
                         {"y2", y},
                         {"stroke", "#e4e4e4"}});
    svg.Element(
        "text",
        {{"x", SvgNumber(f.left - 6)}, {"y", SvgNumber(f.Y(tick) + 4)}, {"text-anchor", "end"}},
        FormatTick(tick, f.y.step));
  }
  for (double tick : f.x.ticks) {
    const std::string x = SvgNumber(f.X(tick));
    svg.Element("line", {{"x1", x},
                         {"x2", x},
                         {"y1", SvgNumber(f.top)},
                         {"y2", SvgNumber(f.top + f.height)},
                         {"stroke", "#e4e4e4"}});
    svg.Element("text",
                {{"x", x}, {"y", SvgNumber(f.top + f.height + 16)}, {"text-anchor", "middle"}},
                FormatTick(tick, f.x.step));
  }
  svg.Element("rect", {{"x", SvgNumber(f.left)},
                       {"y", SvgNumber(f.top)},
                       {"width", SvgNumber(f.width)},
                       {"height", SvgNumber(f.height)},
                       {"fill", "none"},
                       {"stroke", "#888888"}});
  svg.Close();
}

void DrawSeries(SvgWriter& svg, const Frame& f, const ChartSeries& series, size_t index,
                bool markers) {
  if (series.points.empty()) return;
  const std::string colour = SeriesColour(index);
  std::string points;
  for (const ChartPoint& p : series.points) {
    if (!points.empty()) points += ' ';
    absl::StrAppend(&points, SvgNumber(f.X(p.x)), ",", SvgNumber(f.Y(p.y)));
  }
  SvgAttributes line = {{"class", "series"},     {"data-series", absl::StrCat(index)},
                        {"fill", "none"},        {"stroke", colour},
                        {"stroke-width", "1.6"}, {"stroke-linejoin", "round"},
                        {"points", points}};
  if (index >= kPalette.size()) line.emplace_back("stroke-dasharray", "6 3");
  svg.Element("polyline", line);
  if (!markers) return;
  svg.Open("g", {{"class", "markers"}, {"fill", colour}});
  for (const ChartPoint& p : series.points) {
    svg.Element("circle", {{"cx", SvgNumber(f.X(p.x))}, {"cy", SvgNumber(f.Y(p.y))}, {"r", "2.5"}});
  }
  svg.Close();
}

void DrawPanel(SvgWriter& svg, const Chart& chart, const ChartPanel& panel, double offset,
               const NiceScale& x_scale) {
  Frame f{offset + kPlotLeft, kPlotTop, kPanelWidth - kPlotLeft - kPlotRight,
          kPlotHeight,        x_scale,  PanelYScale(panel, kMaxYTicks)};
  svg.Open("g", {{"class", "panel"}});
  svg.Element("text",
              {{"x", SvgNumber(f.left)},
               {"y", SvgNumber(kPlotTop - 12)},
               {"font-size", "14"},
               {"font-weight", "bold"}},
              panel.title);
  DrawAxes(svg, f);
  svg.Element("text",
              {{"x", SvgNumber(f.left + f.width / 2)},
               {"y", SvgNumber(f.top + f.height + 36)},
               {"text-anchor", "middle"},
               {"font-size", "12"}},
              chart.x_title);
  bool any = false;
  for (size_t i = 0; i < panel.series.size(); ++i) {
    DrawSeries(svg, f, panel.series[i], i, panel.markers);
    any = any || !panel.series[i].points.empty();
  }
  if (!any) {
    svg.Element("text",
                {{"x", SvgNumber(f.left + f.width / 2)},
                 {"y", SvgNumber(f.top + f.height / 2)},
                 {"text-anchor", "middle"},
                 {"fill", "#888888"}},
                "no data");
  }
  svg.Close();
}

}  // namespace

std::string SeriesColour(size_t index) { return kPalette[index % kPalette.size()]; }

std::string RenderChartSvg(const Chart& chart) {
  const double height = kLegendTop + kLegendLine * static_cast<double>(chart.legend.size()) +
                        kNoteLine * static_cast<double>(chart.notes.size()) + 12;
  const double width = kPanelWidth * static_cast<double>(std::max<size_t>(chart.panels.size(), 1));
  SvgWriter svg(width, height);
  svg.Element("title", {}, chart.title);
  svg.Element("rect", {{"width", "100%"}, {"height", "100%"}, {"fill", "#ffffff"}});
  svg.Open("g", {{"font-family", "DejaVu Sans, Helvetica, Arial, sans-serif"}});
  svg.Element("text", {{"x", "16"}, {"y", "28"}, {"font-size", "17"}}, chart.title);

  const NiceScale x_scale = ChartXScale(chart, kMaxXTicks);
  for (size_t i = 0; i < chart.panels.size(); ++i) {
    DrawPanel(svg, chart, chart.panels[i], kPanelWidth * static_cast<double>(i), x_scale);
  }

  svg.Open("g", {{"class", "legend"}, {"font-size", "13"}});
  double y = kLegendTop;
  for (size_t i = 0; i < chart.legend.size(); ++i, y += kLegendLine) {
    SvgAttributes swatch = {{"x1", "16"},
                            {"x2", "44"},
                            {"y1", SvgNumber(y - 4)},
                            {"y2", SvgNumber(y - 4)},
                            {"stroke", SeriesColour(i)},
                            {"stroke-width", "3"}};
    if (i >= kPalette.size()) swatch.emplace_back("stroke-dasharray", "6 3");
    svg.Element("line", swatch);
    svg.Element("text", {{"x", "52"}, {"y", SvgNumber(y)}}, chart.legend[i]);
  }
  svg.Close();
  svg.Open("g", {{"class", "notes"}, {"font-size", "12"}, {"fill", "#666666"}});
  for (const std::string& note : chart.notes) {
    svg.Element("text", {{"x", "16"}, {"y", SvgNumber(y)}}, note);
    y += kNoteLine;
  }
  svg.Close();
  return svg.Finish();
}

}  // namespace ft::client
