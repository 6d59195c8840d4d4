// The training knobs' parts that need no LibTorch: learning-rate schedules, per-class metrics
// from a confusion matrix, the early-stopping tracker, and their JSON in checkpoint headers.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "worker/checkpoint/checkpoint_header.h"
#include "worker/eval/class_metrics.h"
#include "worker/eval/early_stopping.h"
#include "worker/eval/eval_report_json.h"
#include "worker/train/lr_schedule.h"

namespace ft {
namespace {

using train::EvalReport;
using train::LearningRateSchedule;
using train::ScheduleKind;

// --- Schedules: warmup over 4 steps, then 10 decay steps (total 14) ---

TEST(LearningRateScheduleTest, ParsesTheThreeNames) {
  EXPECT_EQ(train::ParseScheduleKind("linear"), ScheduleKind::kLinear);
  EXPECT_EQ(train::ParseScheduleKind("cosine"), ScheduleKind::kCosine);
  EXPECT_EQ(train::ParseScheduleKind("constant"), ScheduleKind::kConstant);
  EXPECT_FALSE(train::ParseScheduleKind(""));
  EXPECT_FALSE(train::ParseScheduleKind("Cosine"));
}

TEST(LearningRateScheduleTest, EveryKindWarmsUpLinearly) {
  for (ScheduleKind kind :
       {ScheduleKind::kLinear, ScheduleKind::kCosine, ScheduleKind::kConstant}) {
    const LearningRateSchedule schedule(kind, 2.0, 4, 14);
    EXPECT_DOUBLE_EQ(schedule.LearningRate(0), 0.5);
    EXPECT_DOUBLE_EQ(schedule.LearningRate(1), 1.0);
    EXPECT_DOUBLE_EQ(schedule.LearningRate(3), 2.0);  // the warmup's last step is at the peak
    EXPECT_DOUBLE_EQ(schedule.LearningRate(4), 2.0);  // and so is the first one after it
  }
}

TEST(LearningRateScheduleTest, CosineHalfwayAndLastStep) {
  const LearningRateSchedule schedule(ScheduleKind::kCosine, 1.0, 4, 14);
  EXPECT_DOUBLE_EQ(schedule.LearningRate(9), 0.5);  // (9 - 4) / 10: halfway down
  // The last step (13 done before it) is 9/10 of the way: (1 + cos(0.9 pi)) / 2.
  EXPECT_NEAR(schedule.LearningRate(13), 0.0244717418524232, 1e-15);
  EXPECT_DOUBLE_EQ(schedule.LearningRate(14), 0.0);
  // A fifth of the way: (1 + cos(pi / 5)) / 2 = 0.905, above the linear schedule's 0.8 there.
  EXPECT_NEAR(schedule.LearningRate(6), 0.5 * (1 + std::cos(M_PI * 0.2)), 1e-15);
  EXPECT_GT(schedule.LearningRate(6),
            LearningRateSchedule(ScheduleKind::kLinear, 1.0, 4, 14).LearningRate(6));
}

TEST(LearningRateScheduleTest, LinearHalfwayAndLastStep) {
  const LearningRateSchedule schedule(ScheduleKind::kLinear, 1.0, 4, 14);
  EXPECT_DOUBLE_EQ(schedule.LearningRate(9), 0.5);
  EXPECT_DOUBLE_EQ(schedule.LearningRate(13), 0.1);
  EXPECT_DOUBLE_EQ(schedule.LearningRate(14), 0.0);
}

TEST(LearningRateScheduleTest, ConstantStaysAtThePeak) {
  const LearningRateSchedule schedule(ScheduleKind::kConstant, 1e-3, 4, 14);
  for (int64_t step = 4; step <= 14; ++step) EXPECT_EQ(schedule.LearningRate(step), 1e-3);
}

TEST(LearningRateScheduleTest, WithoutWarmupTheDecayStartsAtTheFirstStep) {
  const LearningRateSchedule linear(ScheduleKind::kLinear, 1.0, 0, 10);
  EXPECT_DOUBLE_EQ(linear.LearningRate(0), 1.0);
  EXPECT_DOUBLE_EQ(linear.LearningRate(5), 0.5);
  EXPECT_DOUBLE_EQ(linear.LearningRate(9), 0.1);
  const LearningRateSchedule cosine(ScheduleKind::kCosine, 1.0, 0, 4);
  EXPECT_DOUBLE_EQ(cosine.LearningRate(0), 1.0);
  EXPECT_DOUBLE_EQ(cosine.LearningRate(2), 0.5);
  EXPECT_NEAR(cosine.LearningRate(3), 0.5 * (1 + std::cos(0.75 * M_PI)), 1e-15);
  // Warmup as long as training: the rate rises to the peak at the last step.
  const LearningRateSchedule all_warmup(ScheduleKind::kCosine, 1.0, 10, 10);
  EXPECT_DOUBLE_EQ(all_warmup.LearningRate(9), 1.0);
}

// --- Per-class metrics ---

// Five classes, rows = true label, columns = predicted:
//        a  b  c  d  e
//   a    3  1  0  0  0     support 4
//   b    1  2  0  1  0     support 4
//   c    2  0  0  0  0     support 2, never predicted
//   d    0  0  0  0  0     never present, predicted once
//   e    0  0  0  0  0     never present, never predicted
// predicted:  6  3  0  1  0
const std::vector<int64_t> kConfusion = {3, 1, 0, 0, 0,  //
                                         1, 2, 0, 1, 0,  //
                                         2, 0, 0, 0, 0,  //
                                         0, 0, 0, 0, 0,  //
                                         0, 0, 0, 0, 0};
const std::vector<std::string> kLabels = {"a", "b", "c", "d", "e"};

TEST(ClassMetricsTest, HandComputedScores) {
  EvalReport report;
  train::FillClassMetrics(kConfusion, kLabels, report);
  ASSERT_EQ(report.classes.size(), 5u);
  EXPECT_DOUBLE_EQ(report.accuracy, 0.5);  // (3 + 2) / 10
  EXPECT_EQ(report.confusion, kConfusion);

  const train::ClassMetrics& a = report.classes[0];
  EXPECT_EQ(a.label, "a");
  EXPECT_EQ(a.support, 4);
  EXPECT_EQ(a.predicted, 6);
  EXPECT_DOUBLE_EQ(a.precision, 0.5);  // 3 / 6
  EXPECT_DOUBLE_EQ(a.recall, 0.75);    // 3 / 4
  EXPECT_DOUBLE_EQ(a.f1, 0.6);         // 2 * 0.5 * 0.75 / 1.25

  const train::ClassMetrics& b = report.classes[1];
  EXPECT_DOUBLE_EQ(b.precision, 2.0 / 3);
  EXPECT_DOUBLE_EQ(b.recall, 0.5);
  EXPECT_DOUBLE_EQ(b.f1, 4.0 / 7);  // 2 * (2/3) * (1/2) / (7/6)

  // Never predicted: precision 0 (0 / 0 taken as 0), recall 0 / 2.
  const train::ClassMetrics& c = report.classes[2];
  EXPECT_EQ(c.predicted, 0);
  EXPECT_EQ(c.precision, 0.0);
  EXPECT_EQ(c.recall, 0.0);
  EXPECT_EQ(c.f1, 0.0);

  // Never present but predicted once: precision 0 / 1, recall 0 (0 / 0 taken as 0).
  const train::ClassMetrics& d = report.classes[3];
  EXPECT_EQ(d.support, 0);
  EXPECT_EQ(d.predicted, 1);
  EXPECT_EQ(d.precision, 0.0);
  EXPECT_EQ(d.recall, 0.0);
  EXPECT_EQ(d.f1, 0.0);

  // Macro-F1 over a, b, c and d; e (never present, never predicted) says nothing and is left out.
  EXPECT_DOUBLE_EQ(report.macro_f1, (0.6 + 4.0 / 7 + 0 + 0) / 4);
  EXPECT_NE(report.macro_f1, (0.6 + 4.0 / 7) / 5);
}

// What accuracy hides: always predicting the majority class of a 9:1 split scores 90 % accuracy
// but a macro-F1 under 0.5.
TEST(ClassMetricsTest, MajorityClassPredictorHasLowMacroF1) {
  EvalReport report;
  train::FillClassMetrics({90, 0, 10, 0}, {"ham", "spam"}, report);
  EXPECT_DOUBLE_EQ(report.accuracy, 0.9);
  EXPECT_DOUBLE_EQ(report.classes[0].f1, 2 * 0.9 / 1.9);
  EXPECT_EQ(report.classes[1].f1, 0.0);
  EXPECT_DOUBLE_EQ(report.macro_f1, 0.9 / 1.9);
}

TEST(ClassMetricsTest, EmptySplitAndWrongSize) {
  EvalReport report;
  train::FillClassMetrics({0, 0, 0, 0}, {"x", "y"}, report);
  EXPECT_EQ(report.accuracy, 0.0);
  EXPECT_EQ(report.macro_f1, 0.0);
  EXPECT_THROW(train::FillClassMetrics({1, 2, 3}, {"x", "y"}, report), std::invalid_argument);
}

// --- Early stopping ---

EvalReport Eval(int64_t step, double accuracy, double loss = 1.0, double macro_f1 = 0.0) {
  EvalReport report;
  report.split = "validation";
  report.step = step;
  report.accuracy = accuracy;
  report.loss = loss;
  report.macro_f1 = macro_f1;
  return report;
}

TEST(ValidationTrackerTest, StopsAfterPatienceEvaluationsWithoutImprovement) {
  train::ValidationTracker tracker(train::StoppingMetric::kAccuracy, 2);
  EXPECT_TRUE(tracker.Observe(Eval(10, 0.5)));  // the first is the best so far
  EXPECT_TRUE(tracker.Observe(Eval(20, 0.6)));
  EXPECT_FALSE(tracker.Observe(Eval(30, 0.6)));  // a tie is no improvement
  EXPECT_FALSE(tracker.stopped());
  EXPECT_EQ(tracker.state().bad_evaluations, 1);
  EXPECT_FALSE(tracker.Observe(Eval(40, 0.55)));
  EXPECT_TRUE(tracker.stopped());
  EXPECT_EQ(tracker.state().stopped_at_step, 40);
  EXPECT_EQ(tracker.state().best_step, 20);
  EXPECT_EQ(tracker.state().best_value, 0.6);
  EXPECT_EQ(tracker.state().best_report.step, 20);
  EXPECT_NE(tracker.StopReason().find("accuracy"), std::string::npos);
  // Once stopped, nothing changes.
  EXPECT_FALSE(tracker.Observe(Eval(50, 0.99)));
  EXPECT_EQ(tracker.state().best_step, 20);
  EXPECT_EQ(tracker.state().stopped_at_step, 40);
}

TEST(ValidationTrackerTest, AnImprovementResetsTheCount) {
  train::ValidationTracker tracker(train::StoppingMetric::kAccuracy, 2);
  tracker.Observe(Eval(1, 0.5));
  tracker.Observe(Eval(2, 0.4));
  EXPECT_TRUE(tracker.Observe(Eval(3, 0.7)));
  EXPECT_EQ(tracker.state().bad_evaluations, 0);
  tracker.Observe(Eval(4, 0.6));
  EXPECT_FALSE(tracker.stopped());
}

TEST(ValidationTrackerTest, LossIsBetterWhenLowerAndMacroF1WhenHigher) {
  train::ValidationTracker loss(train::StoppingMetric::kLoss, 1);
  EXPECT_TRUE(loss.Observe(Eval(1, 0.5, 0.9)));
  EXPECT_TRUE(loss.Observe(Eval(2, 0.4, 0.8)));  // accuracy fell, loss improved
  EXPECT_FALSE(loss.Observe(Eval(3, 0.9, 0.85)));
  EXPECT_TRUE(loss.stopped());
  EXPECT_EQ(loss.state().best_step, 2);

  train::ValidationTracker f1(train::StoppingMetric::kMacroF1, 1);
  EXPECT_TRUE(f1.Observe(Eval(1, 0.9, 1.0, 0.3)));
  EXPECT_TRUE(f1.Observe(Eval(2, 0.8, 1.0, 0.4)));
  EXPECT_FALSE(f1.Observe(Eval(3, 0.95, 1.0, 0.35)));
  EXPECT_EQ(f1.state().best_step, 2);
}

TEST(ValidationTrackerTest, PatienceZeroOnlyTracksTheBest) {
  train::ValidationTracker tracker(train::StoppingMetric::kAccuracy, 0);
  tracker.Observe(Eval(1, 0.7));
  for (int64_t step = 2; step < 20; ++step) tracker.Observe(Eval(step, 0.1));
  EXPECT_FALSE(tracker.stopped());
  EXPECT_EQ(tracker.state().best_step, 1);
}

TEST(ValidationTrackerTest, NoStopWhenNoTrainingIsLeftAndNanIsNeverBetter) {
  train::ValidationTracker tracker(train::StoppingMetric::kLoss, 1);
  EXPECT_FALSE(tracker.Observe(Eval(1, 0.5, std::numeric_limits<double>::quiet_NaN())));
  EXPECT_EQ(tracker.state().best_step, -1);
  EXPECT_TRUE(tracker.stopped());  // a NaN first evaluation counts as a bad one

  train::ValidationTracker last(train::StoppingMetric::kAccuracy, 1);
  last.Observe(Eval(1, 0.5));
  EXPECT_FALSE(last.Observe(Eval(2, 0.5), /*may_stop=*/false));
  EXPECT_FALSE(last.stopped());
  EXPECT_EQ(last.state().bad_evaluations, 1);
}

TEST(ValidationTrackerTest, ParsesTheMetricNames) {
  EXPECT_EQ(train::ParseStoppingMetric("accuracy"), train::StoppingMetric::kAccuracy);
  EXPECT_EQ(train::ParseStoppingMetric("loss"), train::StoppingMetric::kLoss);
  EXPECT_EQ(train::ParseStoppingMetric("macro_f1"), train::StoppingMetric::kMacroF1);
  EXPECT_FALSE(train::ParseStoppingMetric("f1"));
}

// --- JSON ---

TEST(EvalReportJsonTest, RoundTripsPerClassMetricsAndConfusion) {
  EvalReport report;
  report.split = "test";
  report.step = 12;
  report.loss = 0.125;
  report.examples = 10;
  train::FillClassMetrics(kConfusion, kLabels, report);
  const auto json = train::EvalReportJson(report);
  EXPECT_EQ(json["confusion"][1], (std::vector<int64_t>{1, 2, 0, 1, 0}));  // true label b
  EXPECT_EQ(json["classes"][2]["label"], "c");
  const EvalReport parsed = train::EvalReportFromJson(json);
  EXPECT_EQ(parsed.confusion, report.confusion);
  EXPECT_EQ(parsed.macro_f1, report.macro_f1);
  ASSERT_EQ(parsed.classes.size(), 5u);
  EXPECT_EQ(parsed.classes[1].precision, report.classes[1].precision);
  EXPECT_EQ(parsed.classes[3].predicted, 1);
  EXPECT_EQ(parsed.accuracy, 0.5);
}

TEST(CheckpointHeaderTest, KeepsTheEarlyStoppingState) {
  train::CheckpointHeader header;
  header.fingerprint = {{"early_stopping_patience", "2"}};
  train::ValidationTrackerState& state = header.validation_tracking;
  state.best_step = 30;
  state.best_value = 0.8125;
  state.best_report = Eval(30, 0.8125);
  state.bad_evaluations = 1;
  state.stopped_at_step = -1;
  const train::CheckpointHeader parsed =
      train::ParseCheckpointHeader(train::CheckpointHeaderJson(header));
  EXPECT_EQ(parsed.validation_tracking.best_step, 30);
  EXPECT_EQ(parsed.validation_tracking.best_value, 0.8125);
  EXPECT_EQ(parsed.validation_tracking.best_report.step, 30);
  EXPECT_EQ(parsed.validation_tracking.bad_evaluations, 1);
  EXPECT_EQ(parsed.validation_tracking.stopped_at_step, -1);
}

}  // namespace
}  // namespace ft
