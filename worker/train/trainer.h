// The training loop: windows of micro-batches, one optimizer step per window, progress reports,
// evaluation, and the model folder at the end. Standard library types only in this header.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/models/model_config.h"
#include "worker/data/job_data.h"
#include "worker/data/pipeline_report.h"
#include "worker/eval/early_stopping.h"
#include "worker/train/train_job.h"

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
  int cpu_replicas = 1;  // models computing each micro-batch together (cpu_replicas.h)
  int64_t resumed_from_step = 0;    // 0: started from scratch
  int64_t checkpoints_written = 0;  // by this run (not counting earlier attempts)
  // fp16 loss scaling (0 and 0 when off): optimizer steps skipped for inf/NaN gradients, by every
  // attempt, and the loss scale at the end.
  int64_t skipped_steps = 0;
  double loss_scale = 0;
  PipelineReport pipeline;  // the trainer fills padding, prefetch and out-of-memory figures
  // Best validation evaluation and early stopping (stopped_at_step >= 0: stopped early).
  ValidationTrackerState validation_tracking;
  int64_t exported_step = 0;  // the step whose weights were tested and exported
  // Causal LM: the test split's prompt/completion examples whose greedy completion is exactly the
  // reference (generate/completion_match.h), of test_completion_examples (0: none measured).
  int64_t test_completion_examples = 0;
  int64_t test_completion_matched = 0;
  double test_majority_completion_match = 0;  // MajorityCompletionMatch on the test split
};

// Total optimizer steps: epochs * ceil(n_train / (world_size * micro * accumulation)), capped by
// max_steps.
int64_t TotalSteps(const TrainOptions& options, std::size_t train_examples);

// Trains a freshly initialized classifier of the configured family (torch::manual_seed(options.seed) first, so a
// seed always gives the same initial weights), or the checkpoint of a model folder
// (models/model_loader.h), and writes the model folder to
// options.output_dir on success. Options must already be valid. A LibTorch error becomes
// std::runtime_error naming the phase ("step 12 of 40 (epoch 2)", "evaluating validation ...").
//
// Checkpoints: at optimizer-step boundaries (options.checkpoint_every_steps, at the end of each
// epoch, and options.checkpoint_every_seconds) into <output_dir>/checkpoints (checkpoint_store.h).
// When that folder already holds a complete checkpoint the run resumes from it and ends with the
// same parameters, bit for bit, as an uninterrupted run (same device and thread count). One
// written for other options throws, naming the differing field; a broken one is skipped with a
// warning through observer.OnLog.
//
// Data parallel (options.distributed.world_size > 1, docs/distributed.md): every rank calls Train
// with the same options and data. All ranks call observer.OnProgress, OnEvaluation (the gang's
// numbers) and OnLog; rank 0 alone writes checkpoints (and calls OnCheckpoint), the model folder,
// and generates causal-LM samples. A failed or timed-out collective throws on every rank.
TrainingSummary Train(const TrainOptions& options, const models::ModelConfig& config,
                      const JobData& data, TrainObserver& observer);

}  // namespace ft::train
