// The SVG `ftctl plot` writes, checked by a real XML parser (Python's, through svg_check.py).
#include "client/lib/plot/chart_svg.h"

#include <cmath>
#include <limits>

#include "client/lib/plot/training_chart.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/prerequisite.h"
#include "tests/support/svg_check.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/client/chart_events.h"

namespace ft::client {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class ChartSvgTest : public ::testing::Test {
 protected:
  // Writes `svg` and runs the checker on it; skips the test without /usr/bin/python3.
  ft::testing::SvgCheck Check(const std::string& svg) {
    const std::string path = dir_.Write("chart.svg", svg);
    ft::testing::SvgCheck check = ft::testing::CheckSvgFile(path);
    return check;
  }
  ft::testing::TempDir dir_;
};

#define SKIP_WITHOUT_PYTHON(check) \
  if (!(check).ran) FT_SKIP_PREREQUISITE_MISSING() << "no /usr/bin/python3 to parse the SVG with"

Chart TwoJobs() {
  JobLog a;
  a.job_id = "job-1";
  a.label = {"R&D <tiny> \"1\" 'x'", 1, 1};
  for (uint64_t step = 1; step <= 12; ++step) {
    a.events.push_back(
        test::ProgressAt("job-1", step, step, 1.0 / static_cast<double>(step), step));
  }
  a.events.push_back(test::EvaluationAt("job-1", 13, "validation", 6, 0.61));
  a.events.push_back(test::EvaluationAt("job-1", 14, "validation", 12, 0.7));
  JobLog b;
  b.job_id = "job-2";
  b.label = {"", 1, 16};
  b.events = {test::ProgressAt("job-2", 1, 1, 0.7, 16),
              test::ProgressAt("job-2", 2, 2, std::nan(""), 32),
              test::ProgressAt("job-2", 3, 3, std::numeric_limits<double>::infinity(), 48),
              test::ProgressAt("job-2", 4, 4, 0.5, 64),
              test::EvaluationAt("job-2", 5, "validation", 4, 0.8),
              test::EvaluationAt("job-2", 6, "test", 4, 0.79)};
  TrainingChartOptions options;
  options.x = PlotX::kExamples;
  options.title = "1 x 1 <vs> 1 x 16 & more";
  return BuildTrainingChart({a, b}, options);
}

TEST_F(ChartSvgTest, WellFormedWithOnePolylinePerPanelPerJob) {
  const std::string svg = RenderChartSvg(TwoJobs());
  const ft::testing::SvgCheck check = Check(svg);
  SKIP_WITHOUT_PYTHON(check);
  ASSERT_EQ(check.exit_status, 0) << check.output;
  EXPECT_THAT(check.output, HasSubstr("ok svg\n"));
  // panel, series index, points: job-2 lost its two non-finite losses.
  EXPECT_THAT(check.output, HasSubstr("series 0 0 12\nseries 0 1 2\nseries 1 0 2\nseries 1 1 1\n"));
  EXPECT_THAT(check.output, Not(HasSubstr("bad-number")));
}

TEST_F(ChartSvgTest, TextIsEscapedAndReadsBackAsWritten) {
  const std::string svg = RenderChartSvg(TwoJobs());
  EXPECT_THAT(svg, HasSubstr("R&amp;D &lt;tiny&gt; &quot;1&quot; &apos;x&apos;"));
  EXPECT_THAT(svg, Not(HasSubstr("<tiny>")));
  const ft::testing::SvgCheck check = Check(svg);
  SKIP_WITHOUT_PYTHON(check);
  ASSERT_EQ(check.exit_status, 0) << check.output;
  EXPECT_THAT(check.output, HasSubstr("title 1 x 1 <vs> 1 x 16 & more\n"));
  EXPECT_THAT(check.output, HasSubstr("legend job-1 R&D <tiny> \"1\" 'x' \u2014 val 70.0 %\n"));
  EXPECT_THAT(check.output,
              HasSubstr("legend job-2 mb 1 x acc 16 \u2014 val 80.0 %, test 79.0 %\n"));
  EXPECT_THAT(check.output,
              HasSubstr("note job-2: 2 non-finite training loss value(s) not drawn\n"));
}

TEST_F(ChartSvgTest, NoNonFiniteNumberLeaksIntoTheFile) {
  const std::string svg = RenderChartSvg(TwoJobs());
  for (const char* word : {"nan", "NaN", "inf"}) EXPECT_THAT(svg, Not(HasSubstr(word))) << word;
}

TEST_F(ChartSvgTest, EmptyPanelsSayNoData) {
  JobLog queued;
  queued.job_id = "job-9";
  queued.events = {test::StateTo("job-9", 1, ft::v1::JOB_STATE_UNSPECIFIED, ft::v1::QUEUED)};
  const std::string svg = RenderChartSvg(BuildTrainingChart({queued}, {}));
  EXPECT_THAT(svg, HasSubstr(">no data</text>"));
  EXPECT_THAT(svg, Not(HasSubstr("<polyline")));
  const ft::testing::SvgCheck check = Check(svg);
  SKIP_WITHOUT_PYTHON(check);
  EXPECT_EQ(check.exit_status, 0) << check.output;
}

// The checker itself catches what the writer must prevent: it can fail.
TEST_F(ChartSvgTest, CheckerRejectsUnescapedTextAndNonFiniteCoordinates) {
  ft::testing::SvgCheck check =
      Check("<svg xmlns=\"http://www.w3.org/2000/svg\"><text>R&D <tiny></text></svg>");
  SKIP_WITHOUT_PYTHON(check);
  EXPECT_EQ(check.exit_status, 1) << check.output;
  EXPECT_THAT(check.output, HasSubstr("not well-formed"));
  check = Check(
      "<svg xmlns=\"http://www.w3.org/2000/svg\"><g class=\"panel\">"
      "<polyline class=\"series\" data-series=\"0\" points=\"1,2 nan,3\"/>"
      "<circle cx=\"inf\" cy=\"1\" r=\"2\"/></g></svg>");
  EXPECT_EQ(check.exit_status, 0) << check.output;
  EXPECT_THAT(check.output, HasSubstr("bad-number polyline points nan,3"));
  EXPECT_THAT(check.output, HasSubstr("bad-number circle cx inf"));
  EXPECT_THAT(check.output, HasSubstr("series 0 0 2"));
}

TEST(ChartScaleTest, AccuracyAxisStaysWithinZeroToHundred) {
  ChartPanel panel;
  panel.y_floor = 0;
  panel.y_ceiling = 100;
  panel.series.emplace_back().points = {{0, 100}, {1, 100}};
  const NiceScale y = PanelYScale(panel, 7);
  EXPECT_EQ(y.max, 100);
  EXPECT_LT(y.min, 100);
  for (double tick : y.ticks) EXPECT_LE(tick, 100);
  EXPECT_EQ(y.ticks.back(), 100);
}

TEST(ChartScaleTest, XStartsAtZeroAndCoversEveryPanel) {
  Chart chart;
  chart.panels.resize(2);
  chart.panels[0].series.emplace_back().points = {{10, 1}, {40, 2}};
  chart.panels[1].series.emplace_back().points = {{45, 1}};
  const NiceScale x = ChartXScale(chart, 6);
  EXPECT_EQ(x.min, 0);
  EXPECT_GE(x.max, 45);
}

}  // namespace
}  // namespace ft::client
