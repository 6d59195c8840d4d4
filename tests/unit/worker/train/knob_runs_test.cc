// Training knobs through whole (tiny) runs of RunTrainingJob: early stopping, keep_best_model,
// their state across a checkpoint and resume, label smoothing's effect, and per-class metrics
// on the imbalanced SMS spam data.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/prerequisite.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/worker/csv_fixture.h"
#include "tests/unit/worker/recording_observer.h"
#include "worker/train/train_job.h"
#include "worker/train/trainer.h"

namespace ft {
namespace {

namespace fs = std::filesystem;
using train::TrainOptions;
using train::TrainOutcome;

using Observer = testing::RecordingObserver;
using testing::ReadAll;
using testing::SentimentCsv;
using testing::WriteFile;

class KnobRunsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_.path();
    WriteFile(dir_ / "train.csv", SentimentCsv(60, 1));
    WriteFile(dir_ / "test.csv", SentimentCsv(20, 2));
  }

  // 50 training examples in windows of 4 x 2: 7 steps per epoch (the last one short), 21 in all;
  // validation (10 examples) after every step, one progress report per step.
  TrainOptions Options(const std::string& output) const {
    TrainOptions options;
    options.model = "scratch:bloom-tiny";
    options.train_path = (dir_ / "train.csv").string();
    options.test_path = (dir_ / "test.csv").string();
    options.validation_fraction = 1.0 / 6;
    options.micro_batch_size = 4;
    options.accumulation_steps = 2;
    options.epochs = 3;
    options.learning_rate = 3e-3;
    options.lr_scheduler = "constant";
    options.log_every_steps = 1;
    options.eval_every_steps = 1;
    options.max_seq_length = 32;
    options.checkpoint_every_steps = -1;
    options.threads = 1;
    options.seed = 5;
    options.output_dir = (dir_ / output).string();
    return options;
  }

  static TrainOutcome Run(const TrainOptions& options, Observer& observer) {
    return train::RunTrainingJob(options, &observer);
  }
  static nlohmann::json Result(const TrainOptions& options) {
    return nlohmann::json::parse(ReadAll(fs::path(options.output_dir) / "result.json"));
  }
  static std::string Model(const TrainOptions& options) {
    return ReadAll(fs::path(options.output_dir) / "model.safetensors");
  }

  testing::TempDir temp_;  // a fresh folder per test, whatever else runs beside it
  fs::path dir_;
};

// With a learning rate too small to change any prediction, every validation accuracy equals the
// first, so patience 1 stops at the second evaluation, whatever the data: step 2 of 21. Test is
// still evaluated and the model exported.
TEST_F(KnobRunsTest, PatienceOneStopsAtTheFirstEvaluationWithoutImprovement) {
  TrainOptions options = Options("out");
  options.learning_rate = 1e-12;
  options.early_stopping_patience = 1;
  Observer observer;
  const TrainOutcome outcome = Run(options, observer);
  ASSERT_EQ(outcome.status, TrainOutcome::Status::kSucceeded) << outcome.error;
  EXPECT_EQ(outcome.steps, 2);
  ASSERT_EQ(observer.Validations().size(), 2u);
  EXPECT_EQ(observer.Validations()[1].accuracy, observer.Validations()[0].accuracy);
  EXPECT_EQ(observer.evaluations.back().split, "test");
  EXPECT_EQ(observer.progress.back().step, 2);

  const nlohmann::json result = Result(options);
  EXPECT_EQ(result["stopped_early"], true);
  EXPECT_EQ(result["stopped_at_step"], 2);
  EXPECT_EQ(result["steps"], 2);
  EXPECT_EQ(result["total_steps"], 21);
  EXPECT_EQ(result["validation_tracking"]["best_step"], 1);
  EXPECT_EQ(result["validation_tracking"]["metric"], "accuracy");
  EXPECT_TRUE(result["metrics"].contains("test"));
  EXPECT_TRUE(fs::exists(fs::path(options.output_dir) / "model.safetensors"));

  // Without early stopping the same run goes on to the end.
  TrainOptions whole = Options("whole");
  whole.learning_rate = 1e-12;
  whole.max_steps = 4;
  Observer all;
  ASSERT_EQ(Run(whole, all).steps, 4);
  EXPECT_EQ(Result(whole)["stopped_early"], false);
  EXPECT_TRUE(Result(whole)["stopped_at_step"].is_null());
}

// A run that learns: training stops exactly where the recorded validation losses say that
// `patience` evaluations in a row did not beat the best.
TEST_F(KnobRunsTest, StopsWhereTheValidationLossesSay) {
  TrainOptions options = Options("out");
  options.learning_rate = 1e-2;
  options.early_stopping_patience = 2;
  options.early_stopping_metric = "loss";
  Observer observer;
  const TrainOutcome outcome = Run(options, observer);
  ASSERT_EQ(outcome.status, TrainOutcome::Status::kSucceeded) << outcome.error;

  int64_t expected_stop = -1;
  double best = 0;
  int bad = 0;
  for (const train::EvalReport& e : observer.Validations()) {
    if (e.step == 1 || e.loss < best) {
      best = e.loss;
      bad = 0;
    } else if (++bad == 2) {
      expected_stop = e.step;
      break;
    }
  }
  ASSERT_GT(expected_stop, 0) << "the validation loss kept improving: no early stop to test";
  EXPECT_LT(expected_stop, 21);
  EXPECT_EQ(outcome.steps, expected_stop);
  EXPECT_EQ(observer.Validations().back().step, expected_stop);
  EXPECT_EQ(Result(options)["stopped_at_step"], expected_stop);
}

// keep_best_model exports the weights of the best validation evaluation: byte for byte those of
// the same run stopped at that step (the constant schedule does not depend on the run's length),
// and the test metrics are those of these weights.
TEST_F(KnobRunsTest, KeepBestExportsAndTestsTheBestWeights) {
  TrainOptions best = Options("best");
  best.learning_rate = 1e-2;
  best.max_steps = 12;
  best.keep_best_model = true;
  best.early_stopping_metric = "loss";
  Observer observer;
  ASSERT_EQ(Run(best, observer).status, TrainOutcome::Status::kSucceeded);
  const nlohmann::json result = Result(best);
  const int64_t best_step = result["validation_tracking"]["best_step"];
  ASSERT_LT(best_step, 12) << "the last step was the best: nothing to keep";
  EXPECT_EQ(result["exported_step"], best_step);
  EXPECT_EQ(result["exported_weights"], "best");
  EXPECT_EQ(result["steps"], 12);
  EXPECT_EQ(result["metrics"]["validation"]["step"], best_step);
  EXPECT_EQ(result["metrics"]["test"]["step"], best_step);
  const auto validations = observer.Validations();
  const auto lowest = std::min_element(
      validations.begin(), validations.end(),
      [](const train::EvalReport& a, const train::EvalReport& b) { return a.loss < b.loss; });
  EXPECT_EQ(lowest->step, best_step);

  TrainOptions short_run = Options("short");
  short_run.learning_rate = 1e-2;
  short_run.max_steps = best_step;
  Observer short_observer;
  ASSERT_EQ(Run(short_run, short_observer).status, TrainOutcome::Status::kSucceeded);
  EXPECT_TRUE(Model(best) == Model(short_run))
      << "the exported weights are not step " << best_step << "'s";
  EXPECT_EQ(result["metrics"]["test"], Result(short_run)["metrics"]["test"]);

  // Without keep_best_model the last weights are exported.
  TrainOptions last = Options("last");
  last.learning_rate = 1e-2;
  last.max_steps = 12;
  Observer last_observer;
  ASSERT_EQ(Run(last, last_observer).status, TrainOutcome::Status::kSucceeded);
  EXPECT_TRUE(Model(last) != Model(best));
  EXPECT_EQ(Result(last)["exported_step"], 12);
}

// SMS spam is 87 % ham: the per-class numbers show what accuracy hides. A few steps of a tiny
// model from scratch mostly predict ham, so accuracy stays near the majority share while
// spam's recall, and with it macro-F1, is much lower.
TEST_F(KnobRunsTest, PerClassMetricsOnImbalancedSmsSpam) {
  const char* shared = std::getenv("FT_SHARED_DATA");
  const fs::path csv = fs::path(shared != nullptr ? shared : "") / "sms_spam" / "sms_spam.csv";
  if (shared == nullptr || !fs::exists(csv)) FT_SKIP_PREREQUISITE_MISSING() << "no " << csv;
  TrainOptions options = Options("sms");
  options.train_path = csv.string();
  options.test_path.clear();
  options.validation_fraction = 0.1;
  options.micro_batch_size = 16;
  options.accumulation_steps = 1;
  options.max_steps = 8;
  options.eval_every_steps = 0;
  options.max_eval_examples = 400;
  options.max_seq_length = 64;
  Observer observer;
  ASSERT_EQ(Run(options, observer).status, TrainOutcome::Status::kSucceeded);
  ASSERT_EQ(observer.evaluations.size(), 1u);
  const train::EvalReport& e = observer.evaluations[0];
  ASSERT_EQ(e.classes.size(), 2u);
  const train::ClassMetrics& ham = e.classes[0];
  const train::ClassMetrics& spam = e.classes[1];
  EXPECT_EQ(ham.label, "0");
  EXPECT_EQ(spam.label, "1");
  EXPECT_EQ(ham.support + spam.support, 400);
  EXPECT_GT(ham.support, 300);  // ~87 % ham
  EXPECT_EQ(e.confusion[0] + e.confusion[1], ham.support);
  EXPECT_EQ(e.confusion[0] + e.confusion[2], ham.predicted);
  EXPECT_DOUBLE_EQ(spam.recall,
                   static_cast<double>(e.confusion[3]) / static_cast<double>(spam.support));
  EXPECT_DOUBLE_EQ(e.macro_f1, (ham.f1 + spam.f1) / 2);
  EXPECT_LT(spam.recall, e.accuracy);
  EXPECT_LT(e.macro_f1, e.accuracy);
  std::printf(
      "sms_spam after 8 steps: accuracy %.4f, macro-F1 %.4f; ham P %.3f R %.3f, spam P %.3f "
      "R %.3f; confusion [[%lld, %lld], [%lld, %lld]]\n",
      e.accuracy, e.macro_f1, ham.precision, ham.recall, spam.precision, spam.recall,
      static_cast<long long>(e.confusion[0]), static_cast<long long>(e.confusion[1]),
      static_cast<long long>(e.confusion[2]), static_cast<long long>(e.confusion[3]));
}

struct ResumeCase {
  std::string name;
  bool keep_best;
};

class EarlyStoppingResumeTest : public KnobRunsTest,
                                public ::testing::WithParamInterface<ResumeCase> {
 protected:
  // Early stopping on loss with patience 3 and checkpoints every 2 steps.
  TrainOptions ResumeOptions(const std::string& output) const {
    TrainOptions options = Options(output);
    options.learning_rate = 1e-2;
    options.early_stopping_patience = 3;
    options.early_stopping_metric = "loss";
    options.keep_best_model = GetParam().keep_best;
    options.checkpoint_every_steps = 2;
    return options;
  }

  // Runs `options` interrupted after `stop_after_step`, then again to its end.
  static TrainOutcome RunInterruptedThenResumed(const TrainOptions& options,
                                                int64_t stop_after_step, Observer& resumed) {
    Observer interrupted(stop_after_step);
    EXPECT_EQ(Run(options, interrupted).status, TrainOutcome::Status::kCancelled);
    return Run(options, resumed);
  }
};

// An interrupted and resumed run stops at the same step with the same best evaluation and the
// same exported bytes as an uninterrupted one: the checkpoint carries the best value, the count
// of evaluations without improvement, the best step and (keep_best_model) the best weights.
TEST_P(EarlyStoppingResumeTest, ResumedRunStopsLikeAnUninterruptedOne) {
  const TrainOptions whole = ResumeOptions("whole");
  Observer uninterrupted;
  const TrainOutcome expected = Run(whole, uninterrupted);
  ASSERT_EQ(expected.status, TrainOutcome::Status::kSucceeded) << expected.error;
  const nlohmann::json expected_result = Result(whole);
  ASSERT_EQ(expected_result["stopped_early"], true) << "no early stop to resume into";
  const int64_t stop = expected_result["stopped_at_step"];
  const int64_t best_step = expected_result["validation_tracking"]["best_step"];
  // The run resumes from the first checkpoint (every 2 steps) after the best evaluation, before
  // the stop, so that it needs the saved state to stop at the same step and, with
  // keep_best_model, to export the best weights. It is interrupted one step later: the stop
  // request also cancels that step's evaluation, hence its checkpoint.
  const int64_t checkpoint = best_step + 2 - best_step % 2;
  const int64_t interrupt_after = checkpoint + 1;
  ASSERT_LT(interrupt_after, stop) << "best at " << best_step;

  const TrainOptions parts = ResumeOptions("parts");
  Observer resumed;
  const TrainOutcome outcome = RunInterruptedThenResumed(parts, interrupt_after, resumed);
  ASSERT_EQ(outcome.status, TrainOutcome::Status::kSucceeded) << outcome.error;
  const nlohmann::json result = Result(parts);
  EXPECT_EQ(result["resumed_from_step"], checkpoint);
  EXPECT_EQ(result["stopped_at_step"], stop);
  EXPECT_EQ(result["validation_tracking"], expected_result["validation_tracking"]);
  EXPECT_EQ(result["exported_step"], expected_result["exported_step"]);
  EXPECT_EQ(result["metrics"], expected_result["metrics"]);
  EXPECT_TRUE(Model(parts) == Model(whole)) << "the resumed run exported other weights";

  // Running the finished job again resumes from the checkpoint written at the stop: no training.
  Observer again;
  ASSERT_EQ(Run(parts, again).status, TrainOutcome::Status::kSucceeded);
  EXPECT_TRUE(again.progress.empty());
  EXPECT_EQ(Result(parts)["stopped_at_step"], stop);
  EXPECT_TRUE(Model(parts) == Model(whole)) << "the rerun exported other weights";

  // The comparison can fail: a resume that forgets the early-stopping state (and best weights)
  // stops elsewhere or exports other weights.
  TrainOptions forgetful = ResumeOptions("forgetful");
  forgetful.test_hooks.resume_without_validation_tracking = true;
  Observer forgot;
  ASSERT_EQ(RunInterruptedThenResumed(forgetful, interrupt_after, forgot).status,
            TrainOutcome::Status::kSucceeded);
  const nlohmann::json wrong = Result(forgetful);
  std::printf(
      "best step %lld, stopped at %lld, resumed from %lld; forgetting the state: stopped "
      "at %s, exported step %s\n",
      static_cast<long long>(best_step), static_cast<long long>(stop),
      static_cast<long long>(checkpoint), wrong["stopped_at_step"].dump().c_str(),
      wrong["exported_step"].dump().c_str());
  EXPECT_TRUE(wrong["stopped_at_step"] != expected_result["stopped_at_step"] ||
              Model(forgetful) != Model(whole));
}

INSTANTIATE_TEST_SUITE_P(Checkpoints, EarlyStoppingResumeTest,
                         ::testing::Values(ResumeCase{"last_weights", false},
                                           ResumeCase{"best_weights", true}),
                         [](const ::testing::TestParamInfo<ResumeCase>& info) {
                           return info.param.name;
                         });

}  // namespace
}  // namespace ft
