// Aggregates optimizer steps between two progress reports into a ProgressReport. Throughput and
// ETA come from the steps' own durations, so time spent in evaluation does not distort them.
#pragma once

#include <cstdint>
#include <vector>

#include "worker/train/train_job.h"

namespace ft::train {

class ProgressMeter {
 public:
  explicit ProgressMeter(int64_t total_steps) : total_steps_(total_steps) {}

  // One optimizer step: its wall time, examples and non-padding tokens.
  void RecordStep(double seconds, int64_t examples, int64_t tokens);

  // The report after `step` steps; `loss_sum` is the summed loss of the steps since the previous
  // report, over loss_terms terms (a causal LM's target tokens; -1: the interval's examples).
  // Starts a new interval.
  ProgressReport TakeReport(int64_t step, int64_t epoch, double loss_sum, double learning_rate,
                            double grad_norm, int64_t loss_terms = -1);

  int64_t samples_seen() const { return samples_seen_; }
  int64_t tokens_seen() const { return tokens_seen_; }
  double total_step_seconds() const { return total_step_seconds_; }

 private:
  int64_t total_steps_;
  int64_t samples_seen_ = 0;
  int64_t tokens_seen_ = 0;
  double total_step_seconds_ = 0;
  // The current interval.
  std::vector<double> step_durations_;
  int64_t interval_samples_ = 0;
  int64_t interval_tokens_ = 0;
};

}  // namespace ft::train
