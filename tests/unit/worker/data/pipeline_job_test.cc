// The data pipeline through RunTrainingJob: auto micro-batch against a memory budget, effective
// batch size, length-grouped windows (exact accumulation, less padding), the token cache, and what
// result.json records of them.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "tests/support/safetensors_reader.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/worker/csv_fixture.h"
#include "worker/train/train_job.h"

namespace ft {
namespace {

namespace fs = std::filesystem;
using testing::ReadAll;
using testing::WriteFile;
using train::TrainOptions;
using train::TrainOutcome;

// Texts of very different lengths (3..90 bytes), so that padding depends on the grouping.
std::string VaryingLengthCsv(int rows, uint64_t seed) {
  std::mt19937_64 generator(seed);
  std::string csv = "text,label\n";
  for (int i = 0; i < rows; ++i) {
    const bool positive = generator() % 2 == 0;
    std::string text = positive ? "good" : "bad";
    const int extra = static_cast<int>(generator() % 80);
    for (int c = 0; c < extra; ++c) text += static_cast<char>('a' + generator() % 26);
    csv += text + "," + (positive ? "pos" : "neg") + "\n";
  }
  return csv;
}

// max over tensors of max|a - b| / max|b|.
double WorstRelativeDifference(const fs::path& a, const fs::path& b) {
  return testing::MaxRelativeDifference(testing::ReadSafetensors(a.string()),
                                        testing::ReadSafetensors(b.string()));
}

class PipelineJobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_.path();
    WriteFile(dir_ / "train.csv", VaryingLengthCsv(70, 1));
    WriteFile(dir_ / "test.csv", VaryingLengthCsv(10, 2));
  }

  TrainOptions Options(const std::string& output) const {
    TrainOptions options;
    options.model = "scratch:bloom-tiny";
    options.train_path = (dir_ / "train.csv").string();
    options.test_path = (dir_ / "test.csv").string();
    options.validation_fraction = 0.2;  // 56 training examples: 7 windows of 8
    options.micro_batch_size = 2;
    options.accumulation_steps = 4;
    options.max_steps = 4;
    options.max_eval_examples = 4;
    options.max_seq_length = 64;
    options.threads = 1;
    options.seed = 3;
    options.checkpoint_every_steps = -1;
    options.output_dir = (dir_ / output).string();
    return options;
  }

  static nlohmann::json Run(const TrainOptions& options) {
    const TrainOutcome outcome = train::RunTrainingJob(options, nullptr);
    EXPECT_EQ(outcome.status, TrainOutcome::Status::kSucceeded) << outcome.error;
    return nlohmann::json::parse(ReadAll(fs::path(options.output_dir) / "result.json"));
  }

  testing::TempDir temp_;  // a fresh folder per test, whatever else runs beside it
  fs::path dir_;
};

TEST_F(PipelineJobTest, AutoMicroBatchPicksOneForATinyBudgetAndTheLimitForABigOne) {
  TrainOptions tiny = Options("tiny");
  tiny.auto_micro_batch = true;
  tiny.micro_batch_size = 0;  // no limit but the effective batch
  tiny.accumulation_steps = 0;
  tiny.effective_batch_size = 8;
  tiny.memory_budget_mb = 0.01;
  TrainOptions big = tiny;
  big.output_dir = (dir_ / "big").string();
  big.memory_budget_mb = 1e6;
  TrainOptions limited = big;
  limited.output_dir = (dir_ / "limited").string();
  limited.micro_batch_size = 4;

  const nlohmann::json small_choice = Run(tiny)["pipeline"]["micro_batch"];
  EXPECT_EQ(small_choice["auto"], true);
  EXPECT_EQ(small_choice["micro_batch_size"], 1);
  EXPECT_EQ(small_choice["accumulation_steps"], 8);
  EXPECT_EQ(small_choice["effective_batch_size"], 8);
  EXPECT_EQ(small_choice["budget_mb"], 0.01);
  EXPECT_EQ(small_choice["budget_source"], "memory_budget_mb");
  ASSERT_EQ(small_choice["probes"].size(), 1u);
  EXPECT_EQ(small_choice["probes"][0]["fits"], false);
  EXPECT_GT(small_choice["probes"][0]["peak_mb"].get<double>(), 0.01);
  EXPECT_FALSE(small_choice["note"].get<std::string>().empty());

  const nlohmann::json result = Run(big);
  const nlohmann::json big_choice = result["pipeline"]["micro_batch"];
  EXPECT_EQ(big_choice["micro_batch_size"], 8);
  EXPECT_EQ(big_choice["accumulation_steps"], 1);
  ASSERT_EQ(big_choice["probes"].size(), 4u);  // 1, 2, 4, 8
  for (const auto& probe : big_choice["probes"]) EXPECT_EQ(probe["fits"], true);
  EXPECT_GT(big_choice["longest_sequence"].get<int64_t>(), 20);
  // The options in result.json are the ones trained with.
  EXPECT_EQ(result["options"]["micro_batch_size"], 8);
  EXPECT_EQ(result["options"]["accumulation_steps"], 1);
  EXPECT_EQ(result["options"]["auto_micro_batch"], true);

  const nlohmann::json limited_choice = Run(limited)["pipeline"]["micro_batch"];
  EXPECT_EQ(limited_choice["micro_batch_size"], 4);
  EXPECT_EQ(limited_choice["accumulation_steps"], 2);
  EXPECT_EQ(limited_choice["limit"], 4);

  // Windows come from the effective batch, so every choice trains on the same examples per step.
  EXPECT_EQ(Run(tiny)["samples_seen"], result["samples_seen"]);
}

TEST_F(PipelineJobTest, EffectiveBatchSizeMustMatchMicroTimesAccumulation) {
  TrainOptions options = Options("bad");
  options.effective_batch_size = 12;  // 2 x 4 is 8
  const TrainOutcome outcome = train::RunTrainingJob(options, nullptr);
  EXPECT_EQ(outcome.status, TrainOutcome::Status::kFailed);
  EXPECT_NE(outcome.error.find("effective_batch_size"), std::string::npos) << outcome.error;

  options.auto_micro_batch = true;
  options.effective_batch_size = 0;
  const TrainOutcome no_effective = train::RunTrainingJob(options, nullptr);
  EXPECT_EQ(no_effective.status, TrainOutcome::Status::kFailed);
  EXPECT_NE(no_effective.error.find("effective_batch_size"), std::string::npos);

  options = Options("good");
  options.effective_batch_size = 8;
  EXPECT_EQ(Run(options)["options"]["effective_batch_size"], 8);
}

// SGD, so that parameters are a linear function of the summed gradients: micro-batch 2 x 4 and
// 8 x 1 end with the same parameters under length grouping too; grouping changes the order (other
// parameters) and pads less.
TEST_F(PipelineJobTest, GroupedWindowsStayExactAndPadLess) {
  const auto sgd = [this](const std::string& name, int64_t micro, int64_t accumulation,
                          bool grouped) {
    TrainOptions options = Options(name);
    options.optimizer = "sgd";
    options.learning_rate = 0.05;
    options.lr_scheduler = "constant";
    options.micro_batch_size = micro;
    options.accumulation_steps = accumulation;
    options.group_by_length = grouped;
    options.max_steps = 3;
    return Run(options);
  };
  const nlohmann::json accumulated = sgd("grouped_2x4", 2, 4, true);
  const nlohmann::json single = sgd("grouped_8x1", 8, 1, true);
  const nlohmann::json plain = sgd("plain_2x4", 2, 4, false);
  const double difference =
      WorstRelativeDifference(dir_ / "grouped_2x4" / "model.safetensors",
                              dir_ / "grouped_8x1" / "model.safetensors");
  EXPECT_LT(difference, 1e-6) << "2 x 4 and 8 x 1 under grouping";
  EXPECT_GT(WorstRelativeDifference(dir_ / "plain_2x4" / "model.safetensors",
                                    dir_ / "grouped_2x4" / "model.safetensors"),
            1e-4)
      << "grouping changes which examples share a step";

  EXPECT_EQ(accumulated["pipeline"]["group_by_length"], true);
  EXPECT_EQ(accumulated["options"]["group_by_length"], true);
  const double grouped_padding = accumulated["pipeline"]["padding"]["fraction"];
  const double plain_padding = plain["pipeline"]["padding"]["fraction"];
  EXPECT_LT(grouped_padding, plain_padding);
  EXPECT_EQ(accumulated["pipeline"]["prefetch"]["depth"], 2);
  EXPECT_EQ(single["pipeline"]["out_of_memory_retries"], 0);
}

TEST_F(PipelineJobTest, SecondJobMapsItsTokensFromTheCacheAndTrainsTheSame) {
  TrainOptions first = Options("first");
  first.token_cache_dir = (dir_ / "cache").string();
  TrainOptions second = first;
  second.output_dir = (dir_ / "second").string();
  const nlohmann::json a = Run(first);
  const nlohmann::json b = Run(second);
  EXPECT_EQ(a["pipeline"]["token_cache"]["hits"], 0);
  EXPECT_EQ(a["pipeline"]["token_cache"]["written"], 3);
  EXPECT_EQ(b["pipeline"]["token_cache"]["hits"], 3);
  EXPECT_EQ(b["pipeline"]["token_cache"]["misses"], 0);
  EXPECT_EQ(b["pipeline"]["token_cache"]["dir"], first.token_cache_dir);
  EXPECT_EQ(ReadAll(dir_ / "first" / "model.safetensors"),
            ReadAll(dir_ / "second" / "model.safetensors"));
  EXPECT_EQ(a["metrics"], b["metrics"]);
}

}  // namespace
}  // namespace ft
