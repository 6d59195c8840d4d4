// fp16 loss scaling inside the trainer, exercised on the CPU: fp16 itself needs CUDA, so these
// tests force the scaler on in float32, where multiplying the loss by a power of two and dividing
// the gradients by it is exact. The scaled run must then end bit-identical to the unscaled one,
// and an injected inf must skip exactly that step, count it, back the scale off and survive a
// resume.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/temp_dir.h"
#include "tests/unit/worker/csv_fixture.h"
#include "tests/unit/worker/recording_observer.h"
#include "worker/train/train_job.h"
#include "worker/train/trainer.h"

namespace ft {
namespace {

namespace fs = std::filesystem;
using testing::ReadAll;
using train::TrainOptions;
using train::TrainOutcome;

using Recorder = testing::RecordingObserver;

class LossScalingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_.path();
    testing::WriteFile(dir_ / "train.csv", testing::SentimentCsv(40, 3));
  }

  // 36 training examples in windows of 4 x 2: 5 steps per epoch (the last one short), 10 in all.
  TrainOptions Options(const std::string& output, const std::string& optimizer = "sgd") const {
    TrainOptions options;
    options.model = "scratch:bloom-tiny";
    options.train_path = (dir_ / "train.csv").string();
    options.validation_fraction = 0.1;
    options.micro_batch_size = 4;
    options.accumulation_steps = 2;
    options.epochs = 2;
    options.optimizer = optimizer;
    options.learning_rate = optimizer == "sgd" ? 0.05 : 1e-3;
    options.max_grad_norm = 1.0;
    options.log_every_steps = 1;
    options.max_seq_length = 32;
    options.checkpoint_every_steps = 2;
    options.threads = 1;
    options.seed = 5;
    options.output_dir = (dir_ / output).string();
    return options;
  }

  static TrainOutcome Run(TrainOptions options, Recorder& recorder,
                          const train::TrainTestHooks& scaling = {}) {
    options.test_hooks = scaling;
    return train::RunTrainingJob(options, &recorder);
  }

  static std::string Model(const TrainOptions& options) {
    return ReadAll(fs::path(options.output_dir) / "model.safetensors");
  }
  static nlohmann::json Result(const TrainOptions& options) {
    return nlohmann::json::parse(ReadAll(fs::path(options.output_dir) / "result.json"));
  }

  static train::TrainTestHooks Forced(double scale) {
    train::TrainTestHooks scaling;
    scaling.force_loss_scaling = true;
    scaling.initial_loss_scale = scale;
    return scaling;
  }

  testing::TempDir temp_;  // a fresh folder per test, whatever else runs beside it
  fs::path dir_;
};

TEST_F(LossScalingTest, PowerOfTwoScaleGivesBitIdenticalTraining) {
  for (const std::string optimizer : {"sgd", "adamw"}) {
    Recorder plain_recorder;
    const TrainOptions plain = Options("plain_" + optimizer, optimizer);
    ASSERT_EQ(Run(plain, plain_recorder).status, TrainOutcome::Status::kSucceeded);
    Recorder scaled_recorder;
    const TrainOptions scaled = Options("scaled_" + optimizer, optimizer);
    ASSERT_EQ(Run(scaled, scaled_recorder, Forced(65536)).status,
              TrainOutcome::Status::kSucceeded);
    EXPECT_EQ(Model(scaled), Model(plain)) << optimizer;
    ASSERT_EQ(scaled_recorder.progress.size(), plain_recorder.progress.size());
    for (std::size_t i = 0; i < plain_recorder.progress.size(); ++i) {
      EXPECT_EQ(scaled_recorder.progress[i].loss, plain_recorder.progress[i].loss);
      EXPECT_EQ(scaled_recorder.progress[i].grad_norm, plain_recorder.progress[i].grad_norm);
      EXPECT_EQ(scaled_recorder.progress[i].loss_scale, 65536);
      EXPECT_EQ(plain_recorder.progress[i].loss_scale, 0);
    }
    EXPECT_EQ(Result(scaled)["skipped_steps"], 0);
    EXPECT_FALSE(Result(plain).contains("skipped_steps"));
  }
}

// The comparison above sees the last bit: a scale that is not a power of two rounds the
// gradients, and the parameters differ.
TEST_F(LossScalingTest, NonPowerOfTwoScaleIsSeenByTheComparison) {
  Recorder plain_recorder;
  const TrainOptions plain = Options("plain");
  ASSERT_EQ(Run(plain, plain_recorder).status, TrainOutcome::Status::kSucceeded);
  Recorder scaled_recorder;
  const TrainOptions scaled = Options("scaled");
  ASSERT_EQ(Run(scaled, scaled_recorder, Forced(3.3)).status, TrainOutcome::Status::kSucceeded);
  EXPECT_NE(Model(scaled), Model(plain));
}

TEST_F(LossScalingTest, NonFiniteGradientSkipsTheStepAndBacksOff) {
  train::TrainTestHooks scaling = Forced(1024);
  scaling.loss_scale_growth_interval = 4;
  scaling.non_finite_steps = {3};
  Recorder recorder;
  const TrainOptions options = Options("skipped");
  ASSERT_EQ(Run(options, recorder, scaling).status, TrainOutcome::Status::kSucceeded);
  ASSERT_EQ(recorder.progress.size(), 10u);
  // Steps 1-2 clean at 1024; step 3 skipped -> 512; four clean steps (4-7) -> 1024 at step 7.
  const std::vector<double> scales = {1024, 1024, 512, 512, 512, 512, 1024, 1024, 1024, 1024};
  for (std::size_t i = 0; i < scales.size(); ++i) {
    EXPECT_EQ(recorder.progress[i].loss_scale, scales[i]) << "step " << i + 1;
    EXPECT_EQ(recorder.progress[i].skipped_steps, i >= 2 ? 1 : 0) << "step " << i + 1;
  }
  ASSERT_EQ(recorder.warnings.size(), 1u);
  EXPECT_NE(recorder.warnings[0].find("step 3 skipped"), std::string::npos) << recorder.warnings[0];
  const nlohmann::json result = Result(options);
  EXPECT_EQ(result["skipped_steps"], 1);
  EXPECT_EQ(result["final_loss_scale"], 1024);
  EXPECT_EQ(result["steps"], 10) << "a skipped step still consumes its window";

  // Skipping really leaves the parameters alone for that window.
  Recorder clean_recorder;
  const TrainOptions clean = Options("clean");
  ASSERT_EQ(Run(clean, clean_recorder, Forced(1024)).status, TrainOutcome::Status::kSucceeded);
  EXPECT_NE(Model(options), Model(clean));
}

TEST_F(LossScalingTest, ResumeKeepsScaleAndSkippedCount) {
  train::TrainTestHooks scaling = Forced(1024);
  scaling.loss_scale_growth_interval = 3;
  scaling.non_finite_steps = {1, 2};
  Recorder whole_recorder;
  const TrainOptions whole = Options("whole");
  ASSERT_EQ(Run(whole, whole_recorder, scaling).status, TrainOutcome::Status::kSucceeded);

  const TrainOptions parts = Options("parts");
  Recorder interrupted(3);  // stops after step 3; the newest checkpoint is at step 2
  ASSERT_EQ(Run(parts, interrupted, scaling).status, TrainOutcome::Status::kCancelled);
  Recorder resumed;
  ASSERT_EQ(Run(parts, resumed, scaling).status, TrainOutcome::Status::kSucceeded);
  EXPECT_EQ(Model(parts), Model(whole));
  EXPECT_EQ(Result(parts)["resumed_from_step"], 2);
  EXPECT_EQ(Result(parts)["skipped_steps"], Result(whole)["skipped_steps"]);
  EXPECT_EQ(Result(parts)["final_loss_scale"], Result(whole)["final_loss_scale"]);
  ASSERT_FALSE(resumed.progress.empty());
  EXPECT_EQ(resumed.progress.front().loss_scale, whole_recorder.progress[2].loss_scale);
}

TEST_F(LossScalingTest, Fp16WithoutCudaFailsSayingSo) {
  TrainOptions options = Options("fp16");
  options.precision = "fp16";
  Recorder recorder;
  const TrainOutcome outcome = Run(options, recorder);
  ASSERT_EQ(outcome.status, TrainOutcome::Status::kFailed);
  EXPECT_NE(outcome.error.find("fp16 needs a CUDA GPU"), std::string::npos) << outcome.error;
  EXPECT_TRUE(recorder.progress.empty());
}

}  // namespace
}  // namespace ft
