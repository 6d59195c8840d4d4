// End-to-end tests of RunTrainingJob on small generated files: outputs, callbacks, cancellation,
// error reporting, reproducibility.
#include "worker/train/train_job.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "tests/support/temp_dir.h"
#include "tests/unit/worker/csv_fixture.h"

namespace ft {
namespace {

namespace fs = std::filesystem;
using train::TrainOptions;
using train::TrainOutcome;

using testing::ReadAll;
using testing::SentimentCsv;
using testing::WriteFile;

class RecordingObserver : public train::TrainObserver {
 public:
  void OnProgress(const train::ProgressReport& report) override { progress.push_back(report); }
  void OnEvaluation(const train::EvalReport& report) override { evaluations.push_back(report); }
  void OnLog(const std::string& level, const std::string& message) override {
    logs.push_back(message);
  }
  bool StopRequested() override { return stop_after_polls >= 0 && ++polls > stop_after_polls; }

  std::vector<train::ProgressReport> progress;
  std::vector<train::EvalReport> evaluations;
  std::vector<std::string> logs;
  int stop_after_polls = -1;  // -1: never
  int polls = 0;
};

class TrainJobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_.path();
    WriteFile(dir_ / "train.csv", SentimentCsv(60, 1));
    WriteFile(dir_ / "test.csv", SentimentCsv(20, 2));
  }

  TrainOptions Options(const std::string& output = "out") const {
    TrainOptions options;
    options.model = "scratch:bloom-tiny";
    options.train_path = (dir_ / "train.csv").string();
    options.test_path = (dir_ / "test.csv").string();
    options.validation_fraction = 0.2;
    options.micro_batch_size = 4;
    options.accumulation_steps = 2;
    options.max_steps = 6;
    options.log_every_steps = 2;
    options.eval_every_steps = 3;
    options.max_seq_length = 32;
    options.threads = 1;  // tiny model: one thread is fastest, and robust on a busy machine
    options.seed = 7;
    options.output_dir = (dir_ / output).string();
    options.spec_json = R"({"model": "scratch:bloom-tiny", "seed": 7})";
    return options;
  }

  testing::TempDir temp_;  // a fresh folder per test, whatever else runs beside it
  fs::path dir_;
};

TEST_F(TrainJobTest, TrainsAndWritesTheModelFolder) {
  RecordingObserver observer;
  const TrainOutcome outcome = train::RunTrainingJob(Options(), &observer);
  ASSERT_EQ(outcome.status, TrainOutcome::Status::kSucceeded) << outcome.error;
  EXPECT_EQ(outcome.steps, 6);

  // Progress every 2 steps; the 48 training examples make 6 windows of 8.
  ASSERT_EQ(observer.progress.size(), 3u);
  EXPECT_EQ(observer.progress[0].step, 2);
  EXPECT_EQ(observer.progress[2].step, 6);
  EXPECT_EQ(observer.progress[2].total_steps, 6);
  EXPECT_EQ(observer.progress[2].samples_seen, 48);
  EXPECT_EQ(observer.progress[0].step_durations.size(), 2u);
  EXPECT_GT(observer.progress[0].loss, 0);
  EXPECT_GT(observer.progress[0].samples_per_second, 0);
  EXPECT_GT(observer.progress[0].tokens_per_second, 0);
  EXPECT_GT(observer.progress[0].grad_norm, 0);
  // The default linear schedule without warmup decays from the first step: step 2 (1 done
  // before it) of 6 runs at 5/6 of the peak.
  EXPECT_DOUBLE_EQ(observer.progress[0].learning_rate, 1e-3 * 5 / 6);

  // Validation at steps 3 and 6, then test.
  ASSERT_EQ(observer.evaluations.size(), 3u);
  EXPECT_EQ(observer.evaluations[0].split, "validation");
  EXPECT_EQ(observer.evaluations[0].step, 3);
  EXPECT_EQ(observer.evaluations[0].examples, 12);
  EXPECT_EQ(observer.evaluations[1].step, 6);
  EXPECT_EQ(observer.evaluations[2].split, "test");
  EXPECT_EQ(observer.evaluations[2].examples, 20);
  // Per-class metrics, named by label, and a confusion matrix whose rows sum to each class's
  // support and whose diagonal gives the accuracy.
  for (const train::EvalReport& e : observer.evaluations) {
    ASSERT_EQ(e.classes.size(), 2u);
    EXPECT_EQ(e.classes[0].label, "neg");
    EXPECT_EQ(e.classes[1].label, "pos");
    ASSERT_EQ(e.confusion.size(), 4u);
    EXPECT_EQ(e.confusion[0] + e.confusion[1], e.classes[0].support);
    EXPECT_EQ(e.confusion[2] + e.confusion[3], e.classes[1].support);
    EXPECT_EQ(e.confusion[0] + e.confusion[2], e.classes[0].predicted);
    EXPECT_EQ(e.classes[0].support + e.classes[1].support, e.examples);
    EXPECT_DOUBLE_EQ(e.accuracy, static_cast<double>(e.confusion[0] + e.confusion[3]) /
                                     static_cast<double>(e.examples));
    EXPECT_GE(e.macro_f1, 0.0);
    EXPECT_LE(e.macro_f1, 1.0);
  }
  ASSERT_EQ(outcome.final_evals.size(), 2u);
  EXPECT_FALSE(observer.logs.empty());

  const fs::path out = dir_ / "out";
  const std::string bytes = ReadAll(out / "model.safetensors");
  ASSERT_GE(bytes.size(), 8u);
  uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i)
    header_size = (header_size << 8) | static_cast<unsigned char>(bytes[i]);
  const auto header = nlohmann::json::parse(bytes.substr(8, header_size));
  uint64_t data_bytes = 0;
  int tensors = 0;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") continue;
    ++tensors;
    uint64_t elements = 1;
    for (int64_t dim : entry["shape"]) elements *= dim;
    EXPECT_EQ(entry["data_offsets"][1].get<uint64_t>() - entry["data_offsets"][0].get<uint64_t>(),
              elements * 4)
        << name;
    data_bytes += elements * 4;
  }
  EXPECT_EQ(tensors, 1 + 2 + 2 * 12 + 2 + 1);
  EXPECT_EQ(header["score.weight"]["shape"], (std::vector<int64_t>{2, 128}));
  EXPECT_EQ(bytes.size(), 8 + header_size + data_bytes);

  const auto config = nlohmann::json::parse(ReadAll(out / "config.json"));
  EXPECT_EQ(config["architectures"][0], "BloomForSequenceClassification");
  EXPECT_EQ(config["model_type"], "bloom");
  EXPECT_EQ(config["n_head"], 4);
  EXPECT_EQ(config["id2label"]["0"], "neg");
  EXPECT_EQ(config["label2id"]["pos"], 1);

  const auto result = nlohmann::json::parse(ReadAll(out / "result.json"));
  EXPECT_EQ(result["steps"], 6);
  EXPECT_EQ(result["labels"], (std::vector<std::string>{"neg", "pos"}));
  EXPECT_EQ(result["examples"]["train"], 48);
  EXPECT_EQ(result["metrics"]["test"]["examples"], 20);
  EXPECT_TRUE(result["metrics"]["validation"].contains("accuracy"));
  EXPECT_EQ(result["metrics"]["test"]["classes"][1]["label"], "pos");
  EXPECT_EQ(result["metrics"]["test"]["confusion"].size(), 2u);
  EXPECT_EQ(result["metrics"]["test"]["macro_f1"], observer.evaluations[2].macro_f1);
  EXPECT_EQ(result["stopped_early"], false);
  EXPECT_EQ(result["exported_step"], 6);
  EXPECT_EQ(result["exported_weights"], "last");
  EXPECT_EQ(result["options"]["lr_scheduler"], "linear");
  EXPECT_EQ(result["options"]["seed"], 7);
  EXPECT_EQ(result["spec"]["seed"], 7);
  EXPECT_TRUE(result["versions"].contains("libtorch"));
  EXPECT_TRUE(fs::exists(out / "tokenizer_config.json"));
  for (const auto& entry : fs::directory_iterator(out)) {
    EXPECT_NE(entry.path().extension(), ".tmp") << entry.path();
  }
}

TEST_F(TrainJobTest, SameSeedGivesBitIdenticalWeights) {
  TrainOptions first = Options("first");
  TrainOptions second = Options("second");
  TrainOptions other_seed = Options("other");
  other_seed.seed = 8;
  for (const auto* options : {&first, &second, &other_seed}) {
    const TrainOutcome outcome = train::RunTrainingJob(*options, nullptr);
    ASSERT_EQ(outcome.status, TrainOutcome::Status::kSucceeded) << outcome.error;
  }
  const std::string a = ReadAll(dir_ / "first" / "model.safetensors");
  EXPECT_EQ(a, ReadAll(dir_ / "second" / "model.safetensors"));
  EXPECT_NE(a, ReadAll(dir_ / "other" / "model.safetensors"));
}

TEST_F(TrainJobTest, StopRequestCancels) {
  RecordingObserver observer;
  observer.stop_after_polls = 5;  // inside the third window
  const TrainOutcome outcome = train::RunTrainingJob(Options(), &observer);
  EXPECT_EQ(outcome.status, TrainOutcome::Status::kCancelled);
  EXPECT_EQ(observer.polls, 6);
  EXPECT_EQ(outcome.steps, 2);
  EXPECT_FALSE(fs::exists(dir_ / "out" / "result.json"));
}

TEST_F(TrainJobTest, MissingColumnFailsNamingTheFile) {
  WriteFile(dir_ / "train.csv", "text,category\nhello,pos\n");
  const TrainOutcome outcome = train::RunTrainingJob(Options(), nullptr);
  EXPECT_EQ(outcome.status, TrainOutcome::Status::kFailed);
  EXPECT_NE(outcome.error.find("train.csv"), std::string::npos) << outcome.error;
  EXPECT_NE(outcome.error.find("label"), std::string::npos) << outcome.error;
}

TEST_F(TrainJobTest, UnknownValidationLabelFailsNamingFileAndLine) {
  WriteFile(dir_ / "validation.csv", "text,label\ngood,pos\nhmm,maybe\n");
  TrainOptions options = Options();
  options.validation_path = (dir_ / "validation.csv").string();
  const TrainOutcome outcome = train::RunTrainingJob(options, nullptr);
  EXPECT_EQ(outcome.status, TrainOutcome::Status::kFailed);
  EXPECT_NE(outcome.error.find("validation.csv:3"), std::string::npos) << outcome.error;
}

TEST_F(TrainJobTest, InvalidOptionsFailWithAClearMessage) {
  const auto error_for = [this](auto change) {
    TrainOptions options = Options();
    change(options);
    const TrainOutcome outcome = train::RunTrainingJob(options, nullptr);
    EXPECT_EQ(outcome.status, TrainOutcome::Status::kFailed);
    return outcome.error;
  };
  EXPECT_NE(error_for([](TrainOptions& o) { o.model = "scratch:gpt-9"; }).find("unknown model"),
            std::string::npos);
  EXPECT_NE(error_for([](TrainOptions& o) { o.optimizer = "adam"; }).find("unknown optimizer"),
            std::string::npos);
  EXPECT_NE(error_for([](TrainOptions& o) { o.precision = "fp8"; }).find("precision"),
            std::string::npos);
  EXPECT_NE(error_for([](TrainOptions& o) { o.micro_batch_size = 0; }).find("micro_batch_size"),
            std::string::npos);
  EXPECT_NE(error_for([](TrainOptions& o) { o.lr_scheduler = "step"; }).find("lr_scheduler"),
            std::string::npos);
  EXPECT_NE(error_for([](TrainOptions& o) { o.label_smoothing = 1; }).find("label_smoothing"),
            std::string::npos);
  EXPECT_NE(error_for([](TrainOptions& o) {
              o.early_stopping_patience = -1;
            }).find("early_stopping_patience"),
            std::string::npos);
  EXPECT_NE(error_for([](TrainOptions& o) {
              o.early_stopping_metric = "f1";
            }).find("early_stopping_metric"),
            std::string::npos);
  EXPECT_NE(error_for([this](TrainOptions& o) {
              o.train_path = (dir_ / "nope.csv").string();
            }).find("nope.csv"),
            std::string::npos);
  // Data parallel (worker/distributed): the rank, the gang's size, the batch geometry.
  EXPECT_NE(error_for([](TrainOptions& o) {
              o.distributed.world_size = 2;
              o.distributed.rank = 2;
            }).find("rank 2 is not in 0..1"),
            std::string::npos);
  EXPECT_NE(error_for([](TrainOptions& o) {
              o.distributed.world_size = 2;
              o.effective_batch_size = o.micro_batch_size * o.accumulation_steps;
            }).find("world_size x micro_batch_size x accumulation_steps"),
            std::string::npos);
  EXPECT_NE(error_for([](TrainOptions& o) {
              o.distributed.world_size = 2;
              o.auto_micro_batch = true;
              o.effective_batch_size = 8;
            }).find("auto_micro_batch"),
            std::string::npos);
}

TEST_F(TrainJobTest, SgdWithWarmupAndClippingRunsAcrossEpochs) {
  TrainOptions options = Options();
  options.optimizer = "sgd";
  options.max_steps = 0;
  options.epochs = 2;
  options.warmup_steps = 2;
  options.max_grad_norm = 0.5;
  options.eval_every_steps = 0;  // once per epoch
  options.max_eval_examples = 5;
  options.test_path.clear();
  RecordingObserver observer;
  const TrainOutcome outcome = train::RunTrainingJob(options, &observer);
  ASSERT_EQ(outcome.status, TrainOutcome::Status::kSucceeded) << outcome.error;
  EXPECT_EQ(outcome.steps, 12);
  ASSERT_EQ(observer.evaluations.size(), 2u);
  EXPECT_EQ(observer.evaluations[0].step, 6);
  EXPECT_EQ(observer.evaluations[0].examples, 5);
  EXPECT_EQ(observer.evaluations[1].step, 12);
  EXPECT_EQ(observer.progress.back().epoch, 2);
  EXPECT_DOUBLE_EQ(observer.progress.front().learning_rate, 1e-3);  // step 2: warmup done
  EXPECT_LT(observer.progress.back().learning_rate, 1e-3);
}

TEST_F(TrainJobTest, Bf16TrainsCloseToFp32AndRecordsItsPrecision) {
  TrainOptions fp32 = Options("fp32");
  TrainOptions bf16 = Options("bf16");
  bf16.precision = "bf16";
  RecordingObserver fp32_observer, bf16_observer;
  ASSERT_EQ(train::RunTrainingJob(fp32, &fp32_observer).status, TrainOutcome::Status::kSucceeded);
  const TrainOutcome outcome = train::RunTrainingJob(bf16, &bf16_observer);
  ASSERT_EQ(outcome.status, TrainOutcome::Status::kSucceeded) << outcome.error;
  // Same examples, same order: the losses agree to bfloat16's precision, but are not identical.
  ASSERT_EQ(bf16_observer.progress.size(), fp32_observer.progress.size());
  for (std::size_t i = 0; i < fp32_observer.progress.size(); ++i) {
    EXPECT_NEAR(bf16_observer.progress[i].loss, fp32_observer.progress[i].loss,
                2e-2 * fp32_observer.progress[i].loss);
  }
  EXPECT_NE(bf16_observer.progress.back().loss, fp32_observer.progress.back().loss);
  EXPECT_NE(ReadAll(dir_ / "bf16" / "result.json").find("\"bf16\""), std::string::npos);
}

}  // namespace
}  // namespace ft
