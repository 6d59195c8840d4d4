#include "client/lib/plot/training_chart.h"

#include <cmath>
#include <limits>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/unit/client/chart_events.h"

namespace ft::client {
namespace {

using test::EvaluationAt;
using test::ProgressAt;
using test::StateTo;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

MATCHER_P2(IsPoint, x, y, "") { return arg.x == x && std::abs(arg.y - y) < 1e-9; }

// A job of micro-batch 2 x 4 (8 examples a step): progress every 5 steps, validation every 10.
JobLog EightPerStep(const std::string& id) {
  JobLog log;
  log.job_id = id;
  log.label.micro_batch_size = 2;
  log.label.accumulation_steps = 4;
  log.events = {StateTo(id, 1, ft::v1::JOB_STATE_UNSPECIFIED, ft::v1::QUEUED),
                StateTo(id, 2, ft::v1::QUEUED, ft::v1::RUNNING),
                ProgressAt(id, 3, 5, 0.69, 40),
                ProgressAt(id, 4, 10, 0.61, 80),
                EvaluationAt(id, 5, "validation", 10, 0.62),
                ProgressAt(id, 6, 15, 0.50, 120),
                ProgressAt(id, 7, 20, 0.42, 156),  // the epoch's last window was shorter
                EvaluationAt(id, 8, "validation", 20, 0.755),
                EvaluationAt(id, 9, "test", 20, 0.7412),
                StateTo(id, 10, ft::v1::RUNNING, ft::v1::SUCCEEDED)};
  return log;
}

TEST(TrainingChartTest, LossAndValidationAccuracyPerJobAgainstSteps) {
  const Chart chart = BuildTrainingChart({EightPerStep("job-1")}, {});
  ASSERT_EQ(chart.panels.size(), 2u);
  EXPECT_EQ(chart.x_title, "optimizer step");
  EXPECT_EQ(chart.panels[0].title, "training loss");
  ASSERT_EQ(chart.panels[0].series.size(), 1u);
  EXPECT_THAT(chart.panels[0].series[0].points, ElementsAre(IsPoint(5, 0.69), IsPoint(10, 0.61),
                                                            IsPoint(15, 0.50), IsPoint(20, 0.42)));
  EXPECT_THAT(chart.panels[1].series[0].points, ElementsAre(IsPoint(10, 62), IsPoint(20, 75.5)))
      << "validation only, in percent";
  EXPECT_EQ(chart.panels[1].y_ceiling, 100);
  EXPECT_THAT(chart.legend, ElementsAre("job-1 mb 2 x acc 4 \u2014 val 75.5 %, test 74.1 %"));
  EXPECT_TRUE(chart.notes.empty());
}

TEST(TrainingChartTest, ExamplesAxisUsesSamplesSeenAndInterpolatesEvaluations) {
  JobLog log = EightPerStep("job-1");
  log.events.insert(log.events.begin() + 6, EvaluationAt("job-1", 0, "validation", 12, 0.7));
  TrainingChartOptions options;
  options.x = PlotX::kExamples;
  const Chart chart = BuildTrainingChart({log}, options);
  EXPECT_EQ(chart.x_title, "training examples seen");
  EXPECT_THAT(
      chart.panels[0].series[0].points,
      ElementsAre(IsPoint(40, 0.69), IsPoint(80, 0.61), IsPoint(120, 0.50), IsPoint(156, 0.42)));
  // Step 12 lies between the reports of steps 10 (80) and 15 (120): 80 + 2/5 * 40.
  EXPECT_THAT(chart.panels[1].series[0].points,
              ElementsAre(IsPoint(80, 62), IsPoint(96, 70), IsPoint(156, 75.5)));
}

TEST(TrainingChartTest, ResumedStepsAreDrawnOnceWithTheNewestValue) {
  JobLog log;
  log.job_id = "job-7";
  log.events = {ProgressAt("job-7", 1, 1, 0.9, 8), ProgressAt("job-7", 2, 2, 0.8, 16),
                ProgressAt("job-7", 3, 3, 0.7, 24),
                // ftd was killed; attempt 2 resumed from the checkpoint of step 1.
                ProgressAt("job-7", 4, 2, 0.75, 16, 2), ProgressAt("job-7", 5, 3, 0.65, 24, 2),
                ProgressAt("job-7", 6, 4, 0.6, 32, 2)};
  const Chart chart = BuildTrainingChart({log}, {});
  EXPECT_THAT(chart.panels[0].series[0].points,
              ElementsAre(IsPoint(1, 0.9), IsPoint(2, 0.75), IsPoint(3, 0.65), IsPoint(4, 0.6)));
  EXPECT_THAT(chart.legend[0], HasSubstr("no evaluation yet"));
}

TEST(TrainingChartTest, NonFiniteValuesAreSkippedAndSaid) {
  JobLog log;
  log.job_id = "job-2";
  log.events = {ProgressAt("job-2", 1, 1, 0.7, 1), ProgressAt("job-2", 2, 2, std::nan(""), 2),
                ProgressAt("job-2", 3, 3, std::numeric_limits<double>::infinity(), 3),
                ProgressAt("job-2", 4, 4, 0.6, 4),
                EvaluationAt("job-2", 5, "validation", 4, std::nan(""))};
  const Chart chart = BuildTrainingChart({log}, {});
  EXPECT_THAT(chart.panels[0].series[0].points, ElementsAre(IsPoint(1, 0.7), IsPoint(4, 0.6)));
  EXPECT_TRUE(chart.panels[1].series[0].points.empty());
  EXPECT_THAT(chart.notes,
              ElementsAre("job-2: 2 non-finite training loss value(s) not drawn",
                          "job-2: 1 non-finite validation accuracy value(s) not drawn"));
  EXPECT_THAT(chart.legend[0], HasSubstr("val ?"));
}

TEST(TrainingChartTest, LegendNamesTheJobByDisplayNameAndSaysWhenItDidNotSucceed) {
  JobLog log;
  log.job_id = "job-4";
  log.label = {"baseline <b&w>", 16, 1};
  log.events = {StateTo("job-4", 1, ft::v1::QUEUED, ft::v1::RUNNING)};
  EXPECT_EQ(JobLegend(log), "job-4 baseline <b&w> (RUNNING) \u2014 no evaluation yet");
  log.label.display_name.clear();
  log.events.push_back(StateTo("job-4", 2, ft::v1::RUNNING, ft::v1::FAILED));
  EXPECT_EQ(JobLegend(log), "job-4 mb 16 x acc 1 (FAILED) \u2014 no evaluation yet");
  log.label = {};
  EXPECT_EQ(JobLegend(log), "job-4 (FAILED) \u2014 no evaluation yet") << "label unknown";
}

TEST(TrainingChartTest, OneSeriesPerJobInEveryPanel) {
  const Chart chart = BuildTrainingChart({EightPerStep("job-1"), EightPerStep("job-2")}, {});
  EXPECT_EQ(chart.legend.size(), 2u);
  for (const ChartPanel& panel : chart.panels) EXPECT_EQ(panel.series.size(), 2u);
  EXPECT_EQ(chart.title, "Training loss and validation accuracy");
  EXPECT_EQ(ChartPointCount(chart), 12u);
}

}  // namespace
}  // namespace ft::client
