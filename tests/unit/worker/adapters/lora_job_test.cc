// Whole LoRA jobs through RunTrainingJob (std-only, no LibTorch headers): the output is a PEFT
// adapter folder (plus merged/ when asked), checkpoints hold the trainable tensors only, a
// resumed run ends bit-identical to an uninterrupted one (dropout on, so the RNG state matters),
// and a checkpoint is refused on top of another base.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/temp_dir.h"
#include "tests/unit/worker/csv_fixture.h"
#include "tests/unit/worker/recording_observer.h"
#include "worker/generate/causal_lm_folder.h"
#include "worker/train/train_job.h"

namespace ft {
namespace {

namespace fs = std::filesystem;
using testing::ReadAll;
using train::TrainOptions;
using train::TrainOutcome;
using Observer = testing::RecordingObserver;

class LoraJobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_.path();
    testing::WriteFile(dir_ / "train.csv", testing::SentimentCsv(40, 3));
  }

  // 34 training examples in windows of 4 x 2: 5 optimizer steps per epoch, 10 in all.
  TrainOptions Options(const std::string& output, const std::string& model) const {
    TrainOptions options;
    options.model = model;
    options.train_path = (dir_ / "train.csv").string();
    options.validation_fraction = 0.15;
    options.micro_batch_size = 4;
    options.accumulation_steps = 2;
    options.epochs = 2;
    options.learning_rate = 1e-2;
    options.max_eval_examples = 4;
    options.max_seq_length = 24;
    options.checkpoint_every_steps = 2;
    options.log_every_steps = 1;
    options.threads = 1;
    options.seed = 4;
    options.output_dir = (dir_ / output).string();
    options.lora.enabled = true;
    options.lora.r = 4;
    options.lora.alpha = 8;
    options.lora.dropout = 0.1;
    options.lora.target_modules = {"query_key_value", "dense_4h_to_h"};
    options.lora.merge = true;
    return options;
  }

  static TrainOutcome Run(const TrainOptions& options, Observer& observer) {
    return train::RunTrainingJob(options, &observer);
  }

  // A full (non-LoRA) run of one step exported as a model folder: a base to adapt.
  std::string BaseFolder(const std::string& name, uint64_t seed) {
    TrainOptions options = Options(name, "scratch:bloom-tiny");
    options.lora = {};
    options.max_steps = 1;
    options.seed = seed;
    options.checkpoint_every_steps = -1;
    Observer observer;
    const TrainOutcome outcome = Run(options, observer);
    EXPECT_EQ(outcome.status, TrainOutcome::Status::kSucceeded) << outcome.error;
    return options.output_dir;
  }

  // evaluate_only of `adapter` on `base`, with `trained`'s data: the adapter's shape comes from
  // its folder, as for a user who names only the folder.
  static TrainOptions EvaluateAdapter(const TrainOptions& trained, const std::string& output) {
    TrainOptions options = trained;
    options.output_dir = (fs::path(trained.output_dir).parent_path() / output).string();
    options.evaluate_only = true;
    options.lora = {};
    options.lora.enabled = true;
    options.lora.adapter = trained.output_dir;
    return options;
  }

  testing::TempDir temp_;
  fs::path dir_;
};

// The numbers of an evaluation: every figure but the step it was taken at.
void ExpectSameEvaluations(const std::vector<train::EvalReport>& expected,
                           const std::vector<train::EvalReport>& actual) {
  ASSERT_EQ(expected.size(), actual.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE(expected[i].split);
    EXPECT_EQ(actual[i].split, expected[i].split);
    EXPECT_EQ(actual[i].loss, expected[i].loss);
    EXPECT_EQ(actual[i].accuracy, expected[i].accuracy);
    EXPECT_EQ(actual[i].examples, expected[i].examples);
    EXPECT_EQ(actual[i].confusion, expected[i].confusion);
    EXPECT_EQ(actual[i].perplexity, expected[i].perplexity);
    EXPECT_EQ(actual[i].target_tokens, expected[i].target_tokens);
  }
}

bool HasEntry(const fs::path& folder, const std::string& name) {
  return fs::exists(folder / name);
}

// An adapter folder evaluated on its base gives exactly the final validation and test numbers of
// the job that trained it, writes result.json and nothing else; the base folder evaluated alone
// (a full model folder) gives other numbers, so the comparison can fail.
TEST_F(LoraJobTest, EvaluatingAnAdapterGivesTheFinalNumbersOfItsTraining) {
  const std::string base = BaseFolder("base", 1);
  TrainOptions trained = Options("trained", base);
  trained.test_path = temp_.Write("test.csv", testing::SentimentCsv(12, 8));
  trained.max_eval_examples = 0;
  trained.lora.merge = false;
  Observer training;
  const TrainOutcome trained_outcome = Run(trained, training);
  ASSERT_EQ(trained_outcome.status, TrainOutcome::Status::kSucceeded) << trained_outcome.error;

  const TrainOptions evaluate = EvaluateAdapter(trained, "evaluated");
  Observer evaluation;
  const TrainOutcome outcome = Run(evaluate, evaluation);
  ASSERT_EQ(outcome.status, TrainOutcome::Status::kSucceeded) << outcome.error;
  EXPECT_EQ(outcome.steps, 0);
  EXPECT_TRUE(evaluation.progress.empty());
  EXPECT_TRUE(evaluation.checkpoints.empty());
  ExpectSameEvaluations(trained_outcome.final_evals, outcome.final_evals);
  ExpectSameEvaluations(trained_outcome.final_evals, evaluation.evaluations);
  const fs::path out(evaluate.output_dir);
  EXPECT_FALSE(HasEntry(out, "checkpoints"));
  EXPECT_FALSE(HasEntry(out, "adapter_model.safetensors"));
  EXPECT_FALSE(HasEntry(out, "model.safetensors"));
  const nlohmann::json result = nlohmann::json::parse(ReadAll(out / "result.json"));
  EXPECT_EQ(result["options"]["evaluate_only"], true) << result.dump();
  EXPECT_EQ(result["steps"], 0) << result.dump();

  TrainOptions base_only = evaluate;
  base_only.output_dir = (dir_ / "base_evaluated").string();
  base_only.model = base;
  base_only.lora = {};
  Observer base_observer;
  const TrainOutcome base_outcome = Run(base_only, base_observer);
  ASSERT_EQ(base_outcome.status, TrainOutcome::Status::kSucceeded) << base_outcome.error;
  ASSERT_EQ(base_outcome.final_evals.size(), 2u);
  EXPECT_NE(base_outcome.final_evals[0].loss, outcome.final_evals[0].loss);
}

TEST_F(LoraJobTest, WritesAPeftAdapterFolderAndTheMergedModel) {
  const TrainOptions options = Options("out", "scratch:bloom-tiny");
  Observer observer;
  const TrainOutcome outcome = Run(options, observer);
  ASSERT_EQ(outcome.status, TrainOutcome::Status::kSucceeded) << outcome.error;
  const fs::path out(options.output_dir);
  EXPECT_TRUE(fs::exists(out / "adapter_model.safetensors"));
  EXPECT_FALSE(fs::exists(out / "model.safetensors"));
  EXPECT_TRUE(fs::exists(out / "merged" / "model.safetensors"));
  EXPECT_TRUE(fs::exists(out / "merged" / "config.json"));
  const nlohmann::json config = nlohmann::json::parse(ReadAll(out / "adapter_config.json"));
  EXPECT_EQ(config["peft_type"], "LORA");
  EXPECT_EQ(config["task_type"], "SEQ_CLS");
  EXPECT_EQ(config["r"], 4);
  EXPECT_EQ(config["modules_to_save"], nlohmann::json::array({"score"}));
  EXPECT_EQ(config["target_modules"],
            nlohmann::json::array({"query_key_value", "dense_4h_to_h"}));
  const nlohmann::json result = nlohmann::json::parse(ReadAll(out / "result.json"));
  EXPECT_EQ(result["options"]["lora"]["r"], 4) << result.dump();
  // The adapter is a small share of the merged model.
  EXPECT_LT(fs::file_size(out / "adapter_model.safetensors") * 5,
            fs::file_size(out / "merged" / "model.safetensors"));
  bool logged = false;
  for (const std::string& line : observer.messages) {
    logged = logged || line.rfind("LoRA r=4", 0) == 0;
  }
  EXPECT_TRUE(logged);
}

TEST_F(LoraJobTest, ResumedRunEndsBitIdenticalAndCheckpointsHoldNoBase) {
  // keep_best_model: the checkpoints also carry the best weights (the trainable ones only).
  TrainOptions whole = Options("whole", "scratch:bloom-tiny");
  whole.keep_best_model = true;
  whole.early_stopping_metric = "loss";
  whole.eval_every_steps = 2;
  Observer whole_observer;
  ASSERT_EQ(Run(whole, whole_observer).status, TrainOutcome::Status::kSucceeded);

  TrainOptions resumed = whole;
  resumed.output_dir = (dir_ / "resumed").string();
  Observer first(3);
  ASSERT_EQ(Run(resumed, first).status, TrainOutcome::Status::kCancelled);
  const fs::path checkpoints = fs::path(resumed.output_dir) / "checkpoints";
  uint64_t state_bytes = 0;
  for (const auto& entry : fs::recursive_directory_iterator(checkpoints)) {
    if (entry.is_regular_file()) state_bytes += entry.file_size();
  }
  Observer second;
  const TrainOutcome outcome = Run(resumed, second);
  ASSERT_EQ(outcome.status, TrainOutcome::Status::kSucceeded) << outcome.error;
  EXPECT_EQ(second.progress.front().step, 3) << ::testing::PrintToString(second.warnings);
  EXPECT_TRUE(second.warnings.empty()) << ::testing::PrintToString(second.warnings);
  const fs::path a(whole.output_dir);
  const fs::path b(resumed.output_dir);
  EXPECT_EQ(ReadAll(a / "adapter_model.safetensors"), ReadAll(b / "adapter_model.safetensors"));
  EXPECT_EQ(ReadAll(a / "merged" / "model.safetensors"),
            ReadAll(b / "merged" / "model.safetensors"));
  // Adapter, head, their optimizer state, RNG and counters: far below the base's size.
  EXPECT_GT(state_bytes, 0u);
  EXPECT_LT(state_bytes * 3, fs::file_size(a / "merged" / "model.safetensors"));
}

TEST_F(LoraJobTest, CheckpointOnAnotherBaseIsRefused) {
  const std::string base = BaseFolder("base", 1);
  const std::string other = BaseFolder("other", 2);
  const TrainOptions options = Options("lora", base);
  Observer first(3);
  ASSERT_EQ(Run(options, first).status, TrainOutcome::Status::kCancelled);
  fs::copy_file(fs::path(other) / "model.safetensors", fs::path(base) / "model.safetensors",
                fs::copy_options::overwrite_existing);
  Observer second;
  const TrainOutcome outcome = Run(options, second);
  ASSERT_EQ(outcome.status, TrainOutcome::Status::kFailed);
  EXPECT_NE(outcome.error.find("lora.base_weights"), std::string::npos) << outcome.error;
}

// A causal-LM LoRA job on a base folder, then generation from its adapter folder (the base with
// the adapter on top) and from its merged folder: the same greedy completions.
TEST_F(LoraJobTest, CausalLmAdapterFolderGeneratesAsTheMergedModel) {
  TrainOptions base = Options("lm_base", "scratch:bloom-tiny");
  base.lora = {};
  base.task = "causal_lm";
  base.train_path = temp_.Write("train.jsonl", testing::QuestionRows(16));
  base.validation_path = temp_.Write("validation.jsonl", testing::QuestionRows(4));
  base.max_steps = 1;
  base.checkpoint_every_steps = -1;
  Observer base_observer;
  ASSERT_EQ(Run(base, base_observer).status, TrainOutcome::Status::kSucceeded);

  TrainOptions lora = Options("lm_lora", base.output_dir);
  lora.task = "causal_lm";
  lora.train_path = base.train_path;
  lora.validation_path = base.validation_path;
  // Enough change that greedy completions move away from the barely trained base's.
  lora.learning_rate = 2e-2;
  lora.micro_batch_size = 2;
  lora.accumulation_steps = 1;
  lora.epochs = 6;
  lora.lora.target_modules = {"query_key_value", "dense", "dense_h_to_4h", "dense_4h_to_h"};
  lora.lora.r = 8;
  lora.lora.dropout = 0;
  lora.checkpoint_every_steps = -1;
  Observer observer;
  const TrainOutcome outcome = Run(lora, observer);
  ASSERT_EQ(outcome.status, TrainOutcome::Status::kSucceeded) << outcome.error;
  const nlohmann::json config =
      nlohmann::json::parse(ReadAll(fs::path(lora.output_dir) / "adapter_config.json"));
  EXPECT_EQ(config["task_type"], "CAUSAL_LM");
  EXPECT_TRUE(config["modules_to_save"].is_null());

  auto adapter = generate::CausalLmFolder::Open(lora.output_dir, 1);
  auto merged = generate::CausalLmFolder::Open(lora.output_dir + "/merged", 1);
  auto plain = generate::CausalLmFolder::Open(base.output_dir, 1);
  int differs_from_base = 0;
  for (const char* prompt : {"Question 12?\nType:", "Question 7?\nType:", "Question 99?\nType:"}) {
    const std::string completion = adapter->Complete(prompt, true, 6);
    EXPECT_EQ(completion, merged->Complete(prompt, true, 6)) << prompt;
    const std::string base_completion = plain->Complete(prompt, true, 6);
    differs_from_base += completion != base_completion ? 1 : 0;
  }
  EXPECT_GT(differs_from_base, 0) << "the adapter changed no completion";

  // Evaluated on its base, the adapter gives the training's final perplexity and token accuracy.
  Observer evaluation;
  const TrainOutcome evaluated = Run(EvaluateAdapter(lora, "lm_evaluated"), evaluation);
  ASSERT_EQ(evaluated.status, TrainOutcome::Status::kSucceeded) << evaluated.error;
  ASSERT_FALSE(evaluated.final_evals.empty());
  EXPECT_GT(evaluated.final_evals[0].perplexity, 1.0);
  ExpectSameEvaluations(outcome.final_evals, evaluated.final_evals);
}

}  // namespace
}  // namespace ft
