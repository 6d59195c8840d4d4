// Test support for training-core tests: a TrainObserver that records what a run reports and can
// interrupt it, as a cancel would.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "worker/train/train_job.h"

namespace ft::testing {

// StopRequested() turns true once a progress report at or after `stop_after_step` was seen (the
// trainer polls it before each micro-batch and between evaluation batches); 0: never.
class RecordingObserver : public train::TrainObserver {
 public:
  explicit RecordingObserver(int64_t stop_after_step = 0) : stop_after_step_(stop_after_step) {}
  void OnProgress(const train::ProgressReport& report) override { progress.push_back(report); }
  void OnEvaluation(const train::EvalReport& report) override { evaluations.push_back(report); }
  void OnLog(const std::string& level, const std::string& message) override {
    levels.push_back(level);
    messages.push_back(message);
    if (level == "warning") warnings.push_back(message);
  }
  void OnCheckpoint(const train::CheckpointReport& report) override {
    checkpoints.push_back(report);
  }
  bool StopRequested() override {
    return stop_after_step_ > 0 && !progress.empty() && progress.back().step >= stop_after_step_;
  }
  bool Warned() const { return std::count(levels.begin(), levels.end(), "warning") > 0; }
  // Whether some log line's message contains `text`.
  bool Logged(const std::string& text) const {
    return std::any_of(messages.begin(), messages.end(), [&](const std::string& message) {
      return message.find(text) != std::string::npos;
    });
  }
  std::vector<train::EvalReport> Validations() const {
    std::vector<train::EvalReport> out;
    for (const auto& e : evaluations) {
      if (e.split == "validation") out.push_back(e);
    }
    return out;
  }

  std::vector<train::ProgressReport> progress;
  std::vector<train::EvalReport> evaluations;
  std::vector<std::string> levels;
  std::vector<std::string> messages;  // every log line's message
  std::vector<std::string> warnings;  // the messages of the "warning" lines
  std::vector<train::CheckpointReport> checkpoints;

 private:
  int64_t stop_after_step_;
};

}  // namespace ft::testing
