// Checkpoints and exact resume through RunTrainingJob: a run stopped after some step and run
// again on the same output folder ends with the same model.safetensors bytes as an uninterrupted
// run; checkpoints written for other options are refused, broken ones skipped.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "tests/support/temp_dir.h"
#include "tests/unit/worker/csv_fixture.h"
#include "tests/unit/worker/recording_observer.h"
#include "worker/checkpoint/checkpoint_header.h"
#include "worker/checkpoint/checkpoint_store.h"
#include "worker/train/train_job.h"
#include "worker/train/train_option_fields.h"
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

class CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_.path();
    WriteFile(dir_ / "train.csv", SentimentCsv(60, 1));
  }

  // 50 training examples in windows of 4 x 3 = 12: 12, 12, 12, 12 and a short last window of 2,
  // so 5 optimizer steps per epoch and 10 in all; reports every 3 steps, so that a checkpoint
  // falls inside an open report interval.
  TrainOptions Options(const std::string& output, const std::string& optimizer) const {
    TrainOptions options;
    options.model = "scratch:bloom-tiny";
    options.train_path = (dir_ / "train.csv").string();
    options.validation_fraction = 1.0 / 6;  // 10 of 60
    options.micro_batch_size = 4;
    options.accumulation_steps = 3;
    options.epochs = 2;
    options.optimizer = optimizer;
    options.learning_rate = optimizer == "sgd" ? 0.05 : 1e-3;
    options.warmup_steps = 3;
    options.max_grad_norm = 1.0;
    options.log_every_steps = 3;
    options.max_eval_examples = 5;
    options.max_seq_length = 32;
    options.checkpoint_every_steps = 2;
    options.threads = 1;
    options.seed = 11;
    options.output_dir = (dir_ / output).string();
    return options;
  }

  static TrainOutcome Run(const TrainOptions& options, Observer& observer) {
    return train::RunTrainingJob(options, &observer);
  }

  // Runs until the observer stops it; expects a cancelled run that left one checkpoint.
  void RunInterrupted(const TrainOptions& options, int64_t stop_after_step,
                      int64_t expected_checkpoint_step) {
    Observer observer(stop_after_step);
    const TrainOutcome outcome = Run(options, observer);
    ASSERT_EQ(outcome.status, TrainOutcome::Status::kCancelled) << outcome.error;
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(fs::path(options.output_dir) / "checkpoints")) {
      names.push_back(entry.path().filename().string());
    }
    ASSERT_EQ(names, std::vector<std::string>{
                         Checkpoint(options, expected_checkpoint_step).filename().string()});
    EXPECT_FALSE(fs::exists(fs::path(options.output_dir) / "model.safetensors"));
  }

  static fs::path Checkpoint(const TrainOptions& options, int64_t step) {
    char name[32];
    std::snprintf(name, sizeof(name), "step-%08lld", static_cast<long long>(step));
    return fs::path(options.output_dir) / "checkpoints" / name;
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

struct ResumeCase {
  std::string optimizer;
  int64_t checkpoint_every_steps;
  int64_t stop_after_step;
  int64_t resumed_from_step;
  std::string precision = "fp32";
  bool group_by_length = false;
};

class ResumeTest : public CheckpointTest, public ::testing::WithParamInterface<ResumeCase> {};

TEST_P(ResumeTest, ResumedRunEndsBitIdenticalToUninterruptedOne) {
  const ResumeCase& c = GetParam();
  TrainOptions whole = Options("whole", c.optimizer);
  TrainOptions parts = Options("parts", c.optimizer);
  whole.checkpoint_every_steps = parts.checkpoint_every_steps = c.checkpoint_every_steps;
  whole.precision = parts.precision = c.precision;
  whole.group_by_length = parts.group_by_length = c.group_by_length;

  Observer uninterrupted;
  const TrainOutcome expected = Run(whole, uninterrupted);
  ASSERT_EQ(expected.status, TrainOutcome::Status::kSucceeded) << expected.error;
  ASSERT_EQ(expected.steps, 10);

  ASSERT_NO_FATAL_FAILURE(RunInterrupted(parts, c.stop_after_step, c.resumed_from_step));
  Observer resumed;
  const TrainOutcome outcome = Run(parts, resumed);
  ASSERT_EQ(outcome.status, TrainOutcome::Status::kSucceeded) << outcome.error;
  EXPECT_EQ(outcome.steps, 10);
  EXPECT_EQ(Model(parts), Model(whole)) << "the resumed parameters differ";

  // Step numbers continue, and reports whose interval began before the interruption carry the
  // same loss and counters as the uninterrupted run's.
  ASSERT_FALSE(resumed.progress.empty());
  EXPECT_GT(resumed.progress.front().step, c.resumed_from_step);
  for (const train::ProgressReport& report : resumed.progress) {
    const auto same =
        std::find_if(uninterrupted.progress.begin(), uninterrupted.progress.end(),
                     [&](const train::ProgressReport& other) { return other.step == report.step; });
    ASSERT_NE(same, uninterrupted.progress.end()) << "step " << report.step;
    EXPECT_EQ(report.loss, same->loss) << "step " << report.step;
    EXPECT_EQ(report.learning_rate, same->learning_rate) << "step " << report.step;
    EXPECT_EQ(report.samples_seen, same->samples_seen) << "step " << report.step;
    EXPECT_EQ(report.tokens_seen, same->tokens_seen) << "step " << report.step;
    EXPECT_EQ(report.epoch, same->epoch) << "step " << report.step;
  }
  EXPECT_EQ(resumed.progress.back().step_durations.size(),
            uninterrupted.progress.back().step_durations.size());

  const nlohmann::json result = Result(parts);
  EXPECT_EQ(result["resumed_from_step"], c.resumed_from_step);
  EXPECT_GE(result["checkpoints_written"].get<int64_t>(), 1);
  EXPECT_EQ(result["samples_seen"], Result(whole)["samples_seen"]);
  EXPECT_EQ(result["metrics"], Result(whole)["metrics"]);
  EXPECT_EQ(Result(whole)["resumed_from_step"], 0);
}

INSTANTIATE_TEST_SUITE_P(
    Checkpoints, ResumeTest,
    ::testing::Values(
        // Mid-epoch: step 3 (the second window of epoch 1) is redone after the resume.
        ResumeCase{"adamw", 2, 3, 2}, ResumeCase{"sgd", 2, 3, 2},
        // At an epoch's end: the checkpoint's position is past the epoch's last window.
        ResumeCase{"adamw", 5, 6, 5},
        // bf16 autocast is as deterministic on the CPU.
        ResumeCase{"adamw", 2, 3, 2, "bf16"},
        // Length-grouped windows (and the batches prepared ahead) resume at the same window.
        ResumeCase{"adamw", 2, 3, 2, "fp32", true}),
    [](const ::testing::TestParamInfo<ResumeCase>& info) {
      return info.param.optimizer + "_" + info.param.precision +
             (info.param.group_by_length ? "_grouped" : "") + "_stopped_after_" +
             std::to_string(info.param.stop_after_step);
    });

// The comparison above can fail: a resume that restores the wrong position in the epoch, or no
// optimizer state, ends with different parameters.
// Packed causal-LM windows (rows of several examples, fewer micro-batches than planned) resume
// at the same window: the resumed job ends with the uninterrupted one's bytes.
TEST_F(CheckpointTest, PackedCausalLmResumesBitIdentical) {
  std::string rows;
  for (int i = 0; i < 40; ++i) {
    rows += "{\"prompt\": \"Question " + std::to_string(i * 37 % 100) + std::string(i % 7, '?') +
            "\\nType:\", \"completion\": \" type " + std::to_string(i % 3) + "\"}\n";
  }
  WriteFile(dir_ / "train.jsonl", rows);
  const auto options = [&](const std::string& output) {
    TrainOptions o = Options(output, "adamw");
    o.task = "causal_lm";
    o.train_path = (dir_ / "train.jsonl").string();
    o.micro_batch_size = 2;
    o.accumulation_steps = 3;
    o.max_seq_length = 96;
    o.packing = true;
    return o;
  };
  Observer uninterrupted;
  const TrainOutcome expected = Run(options("whole"), uninterrupted);
  ASSERT_EQ(expected.status, TrainOutcome::Status::kSucceeded) << expected.error;
  ASSERT_NO_FATAL_FAILURE(RunInterrupted(options("parts"), 3, 2));
  Observer resumed;
  const TrainOutcome outcome = Run(options("parts"), resumed);
  ASSERT_EQ(outcome.status, TrainOutcome::Status::kSucceeded) << outcome.error;
  EXPECT_EQ(outcome.steps, expected.steps);
  EXPECT_EQ(Model(options("parts")), Model(options("whole"))) << "the resumed parameters differ";
}

TEST_F(CheckpointTest, ResumingWrongGivesDifferentBytes) {
  TrainOptions whole = Options("whole", "adamw");
  Observer observer;
  ASSERT_EQ(Run(whole, observer).status, TrainOutcome::Status::kSucceeded);
  TrainOptions interrupted = Options("interrupted", "adamw");
  ASSERT_NO_FATAL_FAILURE(RunInterrupted(interrupted, 3, 2));

  const auto resume_with = [&](const std::string& output, train::TrainTestHooks faults) {
    TrainOptions options = Options(output, "adamw");
    options.test_hooks = faults;
    fs::create_directories(options.output_dir);
    fs::copy(fs::path(interrupted.output_dir) / "checkpoints",
             fs::path(options.output_dir) / "checkpoints", fs::copy_options::recursive);
    Observer resumed;
    const TrainOutcome outcome = Run(options, resumed);
    EXPECT_EQ(outcome.status, TrainOutcome::Status::kSucceeded) << outcome.error;
    EXPECT_EQ(Result(options)["resumed_from_step"], 2);
    return Model(options);
  };
  const std::string correct = resume_with("correct", {});
  train::TrainTestHooks wrong_window;
  wrong_window.resume_window_offset = -1;
  train::TrainTestHooks no_optimizer;
  no_optimizer.resume_without_optimizer = true;
  EXPECT_EQ(correct, Model(whole));
  EXPECT_NE(resume_with("wrong_window", wrong_window), Model(whole));
  EXPECT_NE(resume_with("no_optimizer", no_optimizer), Model(whole));
}

// auto_micro_batch probes memory, which may answer differently the second time (another machine,
// another budget): a resumed job keeps the checkpoint's micro-batch, so it still ends bit-identical.
TEST_F(CheckpointTest, AutoMicroBatchResumesWithTheCheckpointsChoice) {
  const auto automatic = [this](const std::string& output, double budget_mb) {
    TrainOptions options = Options(output, "adamw");
    options.auto_micro_batch = true;
    options.effective_batch_size = 12;
    options.micro_batch_size = 4;  // the limit: probes 1, 2, 4
    options.accumulation_steps = 0;
    options.memory_budget_mb = budget_mb;
    return options;
  };
  const TrainOptions whole = automatic("whole", 1e6);
  Observer uninterrupted;
  ASSERT_EQ(Run(whole, uninterrupted).status, TrainOutcome::Status::kSucceeded);
  ASSERT_EQ(Result(whole)["pipeline"]["micro_batch"]["micro_batch_size"], 4);

  ASSERT_NO_FATAL_FAILURE(RunInterrupted(automatic("parts", 1e6), 3, 2));
  // Resumed with a budget that alone would give micro-batch 1.
  const TrainOptions parts = automatic("parts", 0.01);
  Observer resumed;
  const TrainOutcome outcome = Run(parts, resumed);
  ASSERT_EQ(outcome.status, TrainOutcome::Status::kSucceeded) << outcome.error;
  const nlohmann::json choice = Result(parts)["pipeline"]["micro_batch"];
  EXPECT_EQ(choice["micro_batch_size"], 4);
  EXPECT_EQ(choice["accumulation_steps"], 3);
  EXPECT_TRUE(choice["probes"].empty());
  EXPECT_EQ(Model(parts), Model(whole));
}

TEST_F(CheckpointTest, OtherOptionsFailNamingTheField) {
  TrainOptions options = Options("out", "adamw");
  ASSERT_NO_FATAL_FAILURE(RunInterrupted(options, 3, 2));
  options.learning_rate = 2e-3;
  Observer observer;
  const TrainOutcome outcome = Run(options, observer);
  ASSERT_EQ(outcome.status, TrainOutcome::Status::kFailed);
  EXPECT_NE(outcome.error.find("learning_rate"), std::string::npos) << outcome.error;
  EXPECT_TRUE(observer.progress.empty());
  EXPECT_TRUE(fs::exists(Checkpoint(options, 2))) << "the checkpoint must be kept";
}

TEST_F(CheckpointTest, OtherFormatVersionFailsSayingSo) {
  TrainOptions options = Options("out", "adamw");
  ASSERT_NO_FATAL_FAILURE(RunInterrupted(options, 3, 2));
  // A complete checkpoint of a future format: header and marker agree on the sizes.
  const fs::path folder = Checkpoint(options, 2);
  nlohmann::json header = nlohmann::json::parse(ReadAll(folder / "header.json"));
  header["format_version"] = 99;
  WriteFile(folder / "header.json", header.dump());
  nlohmann::json marker = nlohmann::json::parse(ReadAll(folder / "COMPLETE"));
  marker["files"]["header.json"] = fs::file_size(folder / "header.json");
  WriteFile(folder / "COMPLETE", marker.dump());
  Observer observer;
  const TrainOutcome outcome = Run(options, observer);
  ASSERT_EQ(outcome.status, TrainOutcome::Status::kFailed);
  EXPECT_NE(outcome.error.find("format version 99"), std::string::npos) << outcome.error;
}

// A checkpoint without its COMPLETE marker, with a truncated file, or with a state.pt that
// LibTorch cannot read, is skipped with a warning: the run starts from scratch and ends as an
// uninterrupted one.
TEST_F(CheckpointTest, BrokenCheckpointIsIgnored) {
  TrainOptions whole = Options("whole", "adamw");
  Observer observer;
  ASSERT_EQ(Run(whole, observer).status, TrainOutcome::Status::kSucceeded);

  const auto damage = [](const fs::path& folder) { fs::remove(folder / "COMPLETE"); };
  const auto truncate = [](const fs::path& folder) {
    fs::resize_file(folder / "state.pt", fs::file_size(folder / "state.pt") / 2);
  };
  const auto scramble = [](const fs::path& folder) {
    // Same size, so the marker still matches; the zip directory at the end is gone.
    std::fstream file(folder / "state.pt", std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(-256, std::ios::end);
    file.write(std::string(256, 'x').data(), 256);
  };
  const char* kCases[] = {"no COMPLETE marker", "truncated state.pt", "unreadable state.pt"};
  int run = 0;
  for (const auto& breaker : {std::function<void(const fs::path&)>(damage),
                              std::function<void(const fs::path&)>(truncate),
                              std::function<void(const fs::path&)>(scramble)}) {
    SCOPED_TRACE(kCases[run]);
    TrainOptions options = Options("broken" + std::to_string(run++), "adamw");
    ASSERT_NO_FATAL_FAILURE(RunInterrupted(options, 3, 2));
    breaker(Checkpoint(options, 2));
    Observer restarted;
    const TrainOutcome outcome = Run(options, restarted);
    ASSERT_EQ(outcome.status, TrainOutcome::Status::kSucceeded) << outcome.error;
    EXPECT_TRUE(restarted.Warned());
    ASSERT_FALSE(restarted.progress.empty());
    EXPECT_EQ(restarted.progress.front().step, 3);  // the first report of a fresh run
    EXPECT_EQ(Result(options)["resumed_from_step"], 0);
    EXPECT_EQ(Model(options), Model(whole));
    // The broken folder is gone once a newer checkpoint is in place.
    EXPECT_FALSE(fs::exists(Checkpoint(options, 2)));
    EXPECT_TRUE(fs::exists(Checkpoint(options, 10)));
  }
}

// A completed run keeps its last checkpoint; running it again only redoes the final evaluation
// and rewrites the same model.
TEST_F(CheckpointTest, FinishedRunResumesAtItsEnd) {
  TrainOptions options = Options("out", "sgd");
  Observer first;
  ASSERT_EQ(Run(options, first).status, TrainOutcome::Status::kSucceeded);
  const std::string model = Model(options);
  EXPECT_EQ(Result(options)["checkpoints_written"], 6);  // steps 2, 4, 5, 6, 8, 10
  // Each committed checkpoint is reported (ftd turns it into a checkpoint_saved event) with the
  // size of its files on disk; the last one is still there.
  std::vector<int64_t> steps;
  for (const auto& c : first.checkpoints) {
    steps.push_back(c.step);
    EXPECT_GT(c.bytes, 1000u);
    EXPECT_GE(c.seconds, 0);
  }
  EXPECT_EQ(steps, (std::vector<int64_t>{2, 4, 5, 6, 8, 10}));
  uint64_t on_disk = 0;
  for (const auto& entry :
       fs::directory_iterator(fs::path(options.output_dir) / "checkpoints" / "step-00000010")) {
    if (entry.path().filename() != "COMPLETE") on_disk += fs::file_size(entry.path());
  }
  EXPECT_EQ(first.checkpoints.back().bytes, on_disk);
  // Progress reports carry the worker's memory (RSS on the CPU) and its peak.
  ASSERT_FALSE(first.progress.empty());
  for (const auto& p : first.progress) {
    EXPECT_GT(p.device_memory_bytes, 1u << 20);
    EXPECT_GE(p.device_memory_peak_bytes, p.device_memory_bytes);
  }
  Observer again;
  const TrainOutcome outcome = Run(options, again);
  ASSERT_EQ(outcome.status, TrainOutcome::Status::kSucceeded) << outcome.error;
  EXPECT_EQ(outcome.steps, 10);
  EXPECT_TRUE(again.progress.empty());
  EXPECT_EQ(Result(options)["resumed_from_step"], 10);
  EXPECT_EQ(Result(options)["checkpoints_written"], 0);
  EXPECT_EQ(Result(options)["epochs_started"], 2);
  EXPECT_EQ(Model(options), model);
}

TEST_F(CheckpointTest, NegativeCadenceWritesNoCheckpoints) {
  TrainOptions options = Options("out", "sgd");
  options.checkpoint_every_steps = -1;
  Observer observer;
  ASSERT_EQ(Run(options, observer).status, TrainOutcome::Status::kSucceeded);
  EXPECT_FALSE(fs::exists(fs::path(options.output_dir) / "checkpoints" / "step-00000010"));
  EXPECT_EQ(Result(options)["checkpoints_written"], 0);
}

// Each checkpoint is reported once, as a checkpoint report, not also as a log line (a watcher
// would print it twice).
TEST_F(CheckpointTest, EachCheckpointIsReportedOnceAndNotLogged) {
  TrainOptions options = Options("out", "sgd");
  Observer observer;
  ASSERT_EQ(Run(options, observer).status, TrainOutcome::Status::kSucceeded);
  ASSERT_FALSE(observer.checkpoints.empty());
  EXPECT_EQ(static_cast<int64_t>(observer.checkpoints.size()),
            Result(options)["checkpoints_written"].get<int64_t>());
  for (const std::string& message : observer.messages) {
    EXPECT_EQ(message.find("checkpoint at step"), std::string::npos) << message;
  }
}

TEST(CheckpointHeaderTest, RoundTripsAndNamesTheFirstDifference) {
  train::CheckpointHeader header;
  header.step = 7;
  header.epoch = 2;
  header.window_index = 3;
  header.fingerprint = {{"learning_rate", "0.001"}, {"optimizer", "\"adamw\""}};
  header.interval_step_seconds = {0.25, 0.5};
  header.evaluations.push_back({"validation", 5, 0.69, 0.5, 10});
  const train::CheckpointHeader parsed =
      train::ParseCheckpointHeader(train::CheckpointHeaderJson(header));
  EXPECT_EQ(parsed.step, 7);
  EXPECT_EQ(parsed.window_index, 3);
  EXPECT_EQ(parsed.fingerprint, header.fingerprint);
  EXPECT_EQ(parsed.interval_step_seconds, header.interval_step_seconds);
  ASSERT_EQ(parsed.evaluations.size(), 1u);
  EXPECT_EQ(parsed.evaluations[0].loss, 0.69);

  train::Fingerprint other = header.fingerprint;
  other[0].second = "0.002";
  EXPECT_NO_THROW(train::ExpectSameFingerprint(header.fingerprint, header.fingerprint));
  try {
    train::ExpectSameFingerprint(header.fingerprint, other);
    ADD_FAILURE() << "a differing learning_rate was accepted";
  } catch (const train::FingerprintMismatch& mismatch) {
    EXPECT_STREQ(mismatch.what(),
                 "learning_rate is 0.002 but the checkpoint was written with 0.001");
  }
  EXPECT_THROW(train::ParseCheckpointHeader("{\"step\": 1}"), std::runtime_error);
  EXPECT_THROW(train::ParseCheckpointHeader("not json"), std::runtime_error);
  EXPECT_EQ(train::ParseCheckpointHeader("{\"format_version\": 2}").format_version, 2);
}

// Options that turn on every conditional fingerprint field (see train_option_fields.h).
TrainOptions OptionsRecordingEveryField() {
  TrainOptions options;
  options.task = "causal_lm";
  options.early_stopping_patience = 2;
  options.group_by_length = true;
  options.lora.enabled = true;
  options.tokenizer = "/data/tokenizers/wordlevel";
  return options;
}

// Each option that a resume must match, changed alone, is named by the mismatch; the others
// leave the fingerprint as it was.
TEST(CheckpointFingerprintTest, EachDifferingOptionIsNamed) {
  const train::JobData data;
  const TrainOptions saved = OptionsRecordingEveryField();
  const train::Fingerprint checkpoint = train::ResumeFingerprint(saved, data);
  int named = 0;
  for (const train::TrainOptionField& field : train::kTrainOptionFields) {
    if (std::holds_alternative<std::monostate>(field.member)) continue;
    TrainOptions changed = saved;
    std::visit(
        [&](auto member) {
          if constexpr (!std::is_same_v<decltype(member), std::monostate>) {
            auto& value = changed.*member;
            using Value = std::decay_t<decltype(value)>;
            if constexpr (std::is_same_v<Value, std::string>) {
              value += "-changed";
            } else if constexpr (std::is_same_v<Value, bool>) {
              value = !value;
            } else {
              value = static_cast<Value>(value + 1);
            }
          }
        },
        field.member);
    const train::Fingerprint current = train::ResumeFingerprint(changed, data);
    if (field.fingerprint == train::Fingerprinted::kNo) {
      EXPECT_NO_THROW(train::ExpectSameFingerprint(checkpoint, current)) << field.name;
      continue;
    }
    try {
      train::ExpectSameFingerprint(checkpoint, current);
      ADD_FAILURE() << "a resume with another " << field.name << " was accepted";
    } catch (const train::FingerprintMismatch& mismatch) {
      EXPECT_NE(std::string(mismatch.what()).find(field.name), std::string::npos)
          << mismatch.what();
      ++named;
    }
  }
  EXPECT_EQ(named, 31);  // the rows that a resume must match
}

// The field names of checkpoints that earlier builds wrote (a resume matches them by name).
TEST(CheckpointFingerprintTest, FieldNamesStayThoseOfEarlierCheckpoints) {
  std::vector<std::string> names;
  for (const auto& [name, value] :
       train::ResumeFingerprint(OptionsRecordingEveryField(), train::JobData{})) {
    names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  const std::vector<std::string> earlier = {
      "accumulation_steps", "early_stopping_metric", "early_stopping_patience", "epochs",
      "eval_every_steps", "format", "group_by_length", "keep_best_model", "label_column",
      "label_smoothing", "labels", "learning_rate", "lora.adapter", "lora.alpha",
      "lora.base_precision", "lora.dropout", "lora.merge", "lora.r", "lora.target_modules",
      "lora.use_rslora", "lr_scheduler", "max_eval_examples", "max_grad_norm", "max_seq_length",
      "max_steps", "micro_batch_size", "model", "optimizer", "precision", "seed", "task",
      "text_column", "tokenizer", "train_data_hash", "train_examples", "train_on_prompt",
      "train_path", "validation_fraction", "validation_path", "warmup_steps", "weight_decay"};
  EXPECT_EQ(names, earlier);
}

}  // namespace
}  // namespace ft
