// A causal-LM job end to end through RunTrainingJob on a scratch decoder: progress per target
// token, validation loss/perplexity/token accuracy, and the exported BloomForCausalLM folder.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "tests/support/temp_dir.h"
#include "tests/unit/worker/csv_fixture.h"
#include "tests/unit/worker/recording_observer.h"
#include "worker/io/safetensors_reader.h"
#include "worker/train/train_job.h"

namespace ft::train {
namespace {

using ft::testing::QuestionRows;

nlohmann::json ReadJson(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return nlohmann::json::parse(text.str());
}

TEST(CausalLmJobTest, TrainsEvaluatesAndExportsACausalLmFolder) {
  ft::testing::TempDir dir;
  TrainOptions options;
  options.model = "scratch:bloom-tiny";
  options.task = "causal_lm";
  options.train_path = dir.Write("train.jsonl", QuestionRows(24));
  options.validation_path = dir.Write("validation.jsonl", QuestionRows(6));
  options.test_path = dir.Write("test.jsonl", QuestionRows(6));
  options.micro_batch_size = 2;
  options.accumulation_steps = 2;
  options.epochs = 1;
  options.max_seq_length = 32;
  options.log_every_steps = 2;
  options.learning_rate = 3e-3;
  options.threads = 1;
  options.checkpoint_every_steps = -1;
  options.output_dir = (dir.path() / "out").string();
  testing::RecordingObserver observer;
  const TrainOutcome outcome = RunTrainingJob(options, &observer);
  ASSERT_EQ(outcome.status, TrainOutcome::Status::kSucceeded) << outcome.error;
  EXPECT_EQ(outcome.steps, 6);

  ASSERT_FALSE(observer.progress.empty());
  // Per target token: about ln(vocabulary) for fresh weights, not a per-example sum.
  EXPECT_GT(observer.progress.front().loss, 1.0);
  EXPECT_LT(observer.progress.front().loss, 2 * std::log(260.0));
  ASSERT_FALSE(outcome.final_evals.empty());
  const EvalReport& validation = outcome.final_evals.front();
  EXPECT_EQ(validation.split, "validation");
  EXPECT_EQ(validation.examples, 6);
  // Each row's targets: the completion's bytes and the EOS.
  EXPECT_EQ(validation.target_tokens, 2 * (9 + 1) + 2 * (7 + 1) + 2 * (7 + 1));
  EXPECT_NEAR(validation.perplexity, std::exp(validation.loss), 1e-9 * validation.perplexity);
  EXPECT_GE(validation.accuracy, 0.0);
  EXPECT_LE(validation.accuracy, 1.0);
  EXPECT_TRUE(validation.classes.empty());

  const std::filesystem::path out(options.output_dir);
  const nlohmann::json config = ReadJson((out / "config.json").string());
  EXPECT_EQ(config["architectures"][0], "BloomForCausalLM");
  EXPECT_FALSE(config.contains("id2label"));
  const nlohmann::json generation = ReadJson((out / "generation_config.json").string());
  EXPECT_EQ(generation["eos_token_id"], 2);
  const auto weights = io::SafetensorsFile::Open((out / "model.safetensors").string());
  EXPECT_NE(weights->Find("transformer.word_embeddings.weight"), nullptr);
  EXPECT_EQ(weights->Find("lm_head.weight"), nullptr);  // tied: transformers ties it on load
  EXPECT_EQ(weights->Find("score.weight"), nullptr);
  const nlohmann::json result = ReadJson((out / "result.json").string());
  EXPECT_EQ(result["options"]["task"], "causal_lm");
  EXPECT_GT(result["metrics"]["validation"]["perplexity"].get<double>(), 1.0);
  // The test split's greedy answers are compared with the references; answering the most
  // frequent training completion every time gets 2 of the 6 (each answer is a third of them).
  const nlohmann::json& test = result["metrics"]["test"];
  EXPECT_EQ(test["completion_examples"], 6);
  EXPECT_GE(test["completion_exact_match"].get<double>(), 0.0);
  EXPECT_NEAR(test["majority_completion_exact_match"].get<double>(), 2.0 / 6, 1e-12);
  EXPECT_FALSE(result["metrics"]["validation"].contains("completion_examples"));  // test only
}

// A one-thread causal_lm job on `rows` question rows, no validation split or checkpoints.
TrainOptions SmallLmJob(const ft::testing::TempDir& dir, int rows) {
  TrainOptions options;
  options.model = "scratch:bloom-tiny";
  options.task = "causal_lm";
  options.train_path = dir.Write("train.jsonl", QuestionRows(rows));
  options.validation_fraction = 0;
  options.output_dir = (dir.path() / "out").string();
  options.threads = 1;
  options.checkpoint_every_steps = -1;
  return options;
}

TEST(CausalLmJobTest, AutoMicroBatchProbesTheLanguageModel) {
  ft::testing::TempDir dir;
  TrainOptions options = SmallLmJob(dir, 8);
  options.auto_micro_batch = true;
  options.effective_batch_size = 4;
  options.memory_budget_mb = 4096;
  options.max_seq_length = 32;
  const TrainOutcome outcome = RunTrainingJob(options, nullptr);
  ASSERT_EQ(outcome.status, TrainOutcome::Status::kSucceeded) << outcome.error;
  const nlohmann::json choice =
      ReadJson(options.output_dir + "/result.json")["pipeline"]["micro_batch"];
  EXPECT_EQ(choice["auto"], true);
  EXPECT_EQ(choice["micro_batch_size"].get<int64_t>() * choice["accumulation_steps"].get<int64_t>(),
            4);
  EXPECT_GE(choice["probes"].size(), 1u);
}

// Packing end to end: the job packs, says what it saved, and still learns per target token.
TEST(CausalLmJobTest, PackingComputesFewerTokenSlots) {
  ft::testing::TempDir dir;
  TrainOptions options = SmallLmJob(dir, 16);
  options.micro_batch_size = 8;
  options.accumulation_steps = 1;
  options.max_seq_length = 256;
  options.packing = true;
  testing::RecordingObserver observer;
  const TrainOutcome outcome = RunTrainingJob(options, &observer);
  ASSERT_EQ(outcome.status, TrainOutcome::Status::kSucceeded) << outcome.error;
  EXPECT_EQ(outcome.steps, 2);
  const nlohmann::json result = ReadJson(options.output_dir + "/result.json");
  EXPECT_TRUE(result["options"]["packing"].get<bool>());
  const nlohmann::json padding = result["pipeline"]["padding"];
  // Rows of ~25 tokens: a window's 8 fit one row of 256 instead of 8 rows padded to the longest.
  EXPECT_LT(padding["slots"].get<int64_t>(), padding["unpacked_slots"].get<int64_t>());
  EXPECT_GE(padding["slots"].get<int64_t>(), padding["tokens"].get<int64_t>());
}

TEST(CausalLmJobTest, UnknownTasksAndPackingAClassifierAreRefused) {
  ft::testing::TempDir dir;
  TrainOptions options;
  options.model = "scratch:bloom-tiny";
  options.train_path = dir.Write("train.jsonl", QuestionRows(4));
  options.output_dir = (dir.path() / "out").string();
  options.task = "translation";
  TrainOutcome outcome = RunTrainingJob(options, nullptr);
  EXPECT_NE(outcome.error.find("unknown task"), std::string::npos) << outcome.error;
  options.task = "sequence_classification";
  options.packing = true;
  outcome = RunTrainingJob(options, nullptr);
  EXPECT_EQ(outcome.status, TrainOutcome::Status::kFailed);
  EXPECT_NE(outcome.error.find("packing is only for task"), std::string::npos) << outcome.error;
}

}  // namespace
}  // namespace ft::train
