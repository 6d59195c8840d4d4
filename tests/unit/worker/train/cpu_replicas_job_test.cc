// CPU replicas through whole jobs (RunTrainingJob, std-only): a 2-thread job on a CPU splits its
// micro-batches between 2 replicas unless told not to, and says so; it ends with the numbers of
// the one-model job up to float32 rounding (a classifier, and a causal LM with LoRA on a bf16
// base); a resumed job ends bit-identical to an uninterrupted one, with LoRA's or the model's
// dropout too; and what cannot be split (micro-batch 1) trains as one model with the reason in
// the log.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/temp_dir.h"
#include "tests/unit/worker/csv_fixture.h"
#include "tests/unit/worker/recording_observer.h"
#include "worker/train/train_job.h"

namespace ft {
namespace {

namespace fs = std::filesystem;
using testing::ReadAll;
using train::TrainOptions;
using train::TrainOutcome;
using Observer = testing::RecordingObserver;

constexpr char kSplitLine[] = "split between 2 replicas";
constexpr char kNotSplitLine[] = "not split into replicas";

class CpuReplicasJobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::WriteFile(temp_.path() / "train.csv", testing::SentimentCsv(48, 5));
    testing::WriteFile(temp_.path() / "questions.jsonl", testing::QuestionRows(40));
  }

  // 40 training examples in windows of 4 x 2, 2 threads, SGD.
  TrainOptions Options(const std::string& output, bool replicas) const {
    TrainOptions options;
    options.model = "scratch:bloom-tiny";
    options.train_path = (temp_.path() / "train.csv").string();
    options.validation_fraction = 0.15;
    options.micro_batch_size = 4;
    options.accumulation_steps = 2;
    options.epochs = 1;
    options.optimizer = "sgd";
    options.learning_rate = 0.5;
    options.lr_scheduler = "constant";
    options.max_seq_length = 32;
    options.checkpoint_every_steps = 2;
    options.log_every_steps = 1;
    options.threads = 2;
    options.cpu_replicas = replicas;
    options.seed = 3;
    options.output_dir = (temp_.path() / output).string();
    return options;
  }

  TrainOptions CausalLoraOptions(const std::string& output, bool replicas) const {
    TrainOptions options = Options(output, replicas);
    options.task = "causal_lm";
    options.train_path = (temp_.path() / "questions.jsonl").string();
    options.lora.enabled = true;
    options.lora.r = 4;
    options.lora.alpha = 8;
    options.lora.base_precision = "bf16";
    return options;
  }

  static void Run(const TrainOptions& options, Observer& observer) {
    const TrainOutcome outcome = train::RunTrainingJob(options, &observer);
    ASSERT_EQ(outcome.status, TrainOutcome::Status::kSucceeded) << outcome.error;
  }

  // The validation losses of two runs agree to float32 rounding of other shapes (the replicas
  // multiply half the rows at a time); a wrong gradient moves them by far more.
  static void ExpectSameLosses(const Observer& split, const Observer& one) {
    const auto a = split.Validations();
    const auto b = one.Validations();
    ASSERT_EQ(a.size(), b.size());
    ASSERT_FALSE(a.empty());
    for (std::size_t i = 0; i < a.size(); ++i) {
      EXPECT_NEAR(a[i].loss, b[i].loss, 1e-5 * std::abs(b[i].loss)) << "evaluation " << i;
      EXPECT_EQ(a[i].examples, b[i].examples) << "evaluation " << i;
      EXPECT_EQ(a[i].target_tokens, b[i].target_tokens) << "evaluation " << i;
    }
    ASSERT_EQ(split.progress.size(), one.progress.size());
    for (std::size_t i = 0; i < one.progress.size(); ++i) {
      EXPECT_NEAR(split.progress[i].loss, one.progress[i].loss,
                  1e-5 * std::abs(one.progress[i].loss))
          << "step " << one.progress[i].step;
    }
  }

  // Runs `whole`, then the same job in another folder stopped after 3 steps and resumed: the
  // resumed run must start at step 3, warn of nothing the whole run did not, and end with the
  // same `file`. Returns the
  // uninterrupted run's observer.
  Observer ExpectResumedBitIdentical(const TrainOptions& whole, const std::string& file) const {
    Observer whole_observer;
    Run(whole, whole_observer);
    TrainOptions resumed = whole;
    resumed.output_dir = (temp_.path() / "resumed").string();
    Observer first(3);
    EXPECT_EQ(train::RunTrainingJob(resumed, &first).status, TrainOutcome::Status::kCancelled);
    Observer second;
    Run(resumed, second);
    EXPECT_EQ(second.progress.front().step, 3);
    EXPECT_EQ(second.warnings, whole_observer.warnings);  // resuming adds none
    EXPECT_EQ(ReadAll(fs::path(whole.output_dir) / file),
              ReadAll(fs::path(resumed.output_dir) / file));
    return whole_observer;
  }

  testing::TempDir temp_;
};

TEST_F(CpuReplicasJobTest, ClassifierJobSplitsAndEndsAsTheOneModelJob) {
  Observer split;
  Run(Options("split", true), split);
  Observer one;
  Run(Options("one", false), one);
  EXPECT_TRUE(split.Logged(kSplitLine));
  EXPECT_FALSE(one.Logged(kSplitLine));
  ExpectSameLosses(split, one);
}

TEST_F(CpuReplicasJobTest, CausalLoraJobOnABf16BaseSplitsAndEndsAsTheOneModelJob) {
  Observer split;
  Run(CausalLoraOptions("split", true), split);
  Observer one;
  Run(CausalLoraOptions("one", false), one);
  EXPECT_TRUE(split.Logged(kSplitLine));
  ExpectSameLosses(split, one);
}

TEST_F(CpuReplicasJobTest, ResumedJobEndsBitIdentical) {
  ExpectResumedBitIdentical(Options("whole", true), "model.safetensors");
}

// Each replica draws its own dropout masks from a generator seeded from the job's: the job is
// split, its masks are the same after a resume, and the dropout is applied.
TEST_F(CpuReplicasJobTest, LoraDropoutJobSplitsAndResumesBitIdentical) {
  TrainOptions whole = CausalLoraOptions("whole", true);
  whole.lora.dropout = 0.3;
  const std::string adapter = "adapter_model.safetensors";
  const Observer whole_observer = ExpectResumedBitIdentical(whole, adapter);
  EXPECT_TRUE(whole_observer.Logged(kSplitLine));

  TrainOptions no_dropout = whole;
  no_dropout.lora.dropout = 0;
  no_dropout.output_dir = (temp_.path() / "no_dropout").string();
  Observer plain;
  Run(no_dropout, plain);
  EXPECT_NE(ReadAll(fs::path(whole.output_dir) / adapter),
            ReadAll(fs::path(no_dropout.output_dir) / adapter));
}

// A GPT-2 classifier at its config's dropout (0.1 each: tests/fixtures/hf/models/gpt2): the job
// is split, and its replicas' masks come back after a resume.
TEST_F(CpuReplicasJobTest, ModelDropoutJobSplitsAndResumesBitIdentical) {
  TrainOptions options = Options("whole", true);
  options.model = (fs::path(FT_SOURCE_DIR_FALLBACK) / "tests/fixtures/hf/models/gpt2").string();
  const Observer observer = ExpectResumedBitIdentical(options, "model.safetensors");
  EXPECT_TRUE(observer.Logged(kSplitLine));
  EXPECT_TRUE(observer.Logged("dropout while training (config.json's rates): embeddings 0.1"));
}

TEST_F(CpuReplicasJobTest, ResumingWithoutTheReplicasWarns) {
  TrainOptions options = Options("job", true);
  Observer first(2);
  ASSERT_EQ(train::RunTrainingJob(options, &first).status, TrainOutcome::Status::kCancelled);
  options.cpu_replicas = false;
  Observer second;
  Run(options, second);
  ASSERT_EQ(second.warnings.size(), 1u) << ::testing::PrintToString(second.warnings);
  EXPECT_NE(second.warnings[0].find("with 2 threads in 2 replicas, this run uses cpu with 2 "
                                    "threads: the result may differ in the last bits"),
            std::string::npos)
      << second.warnings[0];
}

// The evaluation's batches are dealt between the replicas; a stop seen by the model's thread
// during it must release the replica waiting to add its sums, not leave it blocked.
TEST_F(CpuReplicasJobTest, StopDuringAnEvaluationReleasesEveryReplica) {
  TrainOptions options = Options("stopped", true);
  options.eval_every_steps = 2;
  Observer observer(2);
  EXPECT_EQ(train::RunTrainingJob(options, &observer).status, TrainOutcome::Status::kCancelled);
  EXPECT_TRUE(observer.Logged(kSplitLine));
  EXPECT_TRUE(observer.Validations().empty());
}

TEST_F(CpuReplicasJobTest, WhatCannotBeSplitTrainsAsOneModelAndSaysWhy) {
  TrainOptions single_rows = Options("single_rows", true);
  single_rows.micro_batch_size = 1;
  single_rows.accumulation_steps = 8;
  single_rows.max_steps = 2;
  Observer rows;
  Run(single_rows, rows);
  EXPECT_TRUE(rows.Logged("a micro-batch of one row cannot be split"));
  EXPECT_FALSE(rows.Logged(kSplitLine));

  TrainOptions one_thread = Options("one_thread", true);
  one_thread.threads = 1;
  one_thread.max_steps = 2;
  Observer alone;
  Run(one_thread, alone);
  EXPECT_FALSE(alone.Logged(kSplitLine));
  EXPECT_FALSE(alone.Logged(kNotSplitLine));
}

}  // namespace
}  // namespace ft
