// The training loop: windows of micro-batches, one optimizer step per window, progress reports,
// evaluation, and the model folder at the end. Standard library types only in this header.
#pragma once

#include <cstdint>
#include <string>

#include "models/model_catalog.h"
#include "train/job_data.h"
#include "train/train_job.h"

namespace ft::train {

struct TrainingSummary {
  TrainOutcome outcome;
  int64_t total_steps = 0;
  int64_t epochs_started = 0;
  int64_t samples_seen = 0;
  int64_t tokens_seen = 0;
  double train_seconds = 0;  // sum of optimizer-step durations
  double eval_seconds = 0;
  std::string device;  // "cpu", "cuda:0"
  int threads = 0;
};

// Total optimizer steps: epochs * ceil(n_train / (micro * accumulation)), capped by max_steps.
int64_t TotalSteps(const TrainOptions& options, std::size_t train_examples);

// Trains a freshly initialized BLOOM classifier (torch::manual_seed(options.seed) first, so a
// seed always gives the same initial weights) and writes the model folder to
// options.output_dir on success. Options must already be valid. A LibTorch error becomes
// std::runtime_error naming the phase ("step 12 of 40 (epoch 2)", "evaluating validation ...").
TrainingSummary Train(const TrainOptions& options, const models::BloomConfig& config,
                      const JobData& data, TrainObserver& observer);

}  // namespace ft::train
