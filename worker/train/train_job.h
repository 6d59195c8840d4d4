// The training core's entry point: train one job from plain options, reporting through an
// observer. Standard library only in this header, so that the daemon glue (gRPC, abseil) never
// includes LibTorch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "worker/adapters/lora_options.h"
#include "worker/data/chat_rendering.h"
#include "worker/distributed/distributed_options.h"

namespace ft::train {

// Deliberate damage and forced paths for tests, carried by each run's options (never set in
// production; the defaults change nothing), so that no test leaves state behind for another.
struct TrainTestHooks {
  // Damage resumes, to show that the tests comparing a resumed run with an uninterrupted one can
  // fail.
  int64_t resume_window_offset = 0;      // added to the checkpoint's position in its epoch
  bool resume_without_optimizer = false;  // keep the fresh optimizer instead of the saved one
  bool resume_without_validation_tracking = false;  // forget early stopping and best weights
  // fp16 needs CUDA, so CI exercises the loss-scaling path on the CPU in float32 (where
  // multiplying by a power of two and back is exact) and injects non-finite gradients.
  bool force_loss_scaling = false;  // scale losses whatever the precision and device
  double initial_loss_scale = 65536.0;
  int64_t loss_scale_growth_interval = 2000;
  std::vector<int64_t> non_finite_steps;  // 1-based optimizer steps whose gradient gets an inf
};

// Everything a training run needs, with defaults already applied (see common/spec).
struct TrainOptions {
  std::string model;  // "scratch:bloom-tiny", ...
  // A tokenizer.json file or a folder holding one, used instead of the model folder's; "": the
  // model folder's (worker/data/job_tokenizer.h).
  std::string tokenizer;
  std::string train_path;
  std::string validation_path;  // empty: seeded split of train by validation_fraction
  std::string test_path;        // empty: no test evaluation
  std::string format;           // "" (infer), "csv", "tsv", "jsonl", "aclimdb"
  std::string text_column = "text";
  std::string label_column = "label";
  double validation_fraction = 0.1;

  int64_t micro_batch_size = 8;
  int64_t accumulation_steps = 1;
  int64_t epochs = 1;
  double learning_rate = 1e-3;
  std::string optimizer = "adamw";  // "adamw" or "sgd"
  double weight_decay = 0.01;       // AdamW only
  double max_grad_norm = 0.0;       // 0: no clipping
  int64_t warmup_steps = 0;         // linear warmup, then lr_scheduler (lr_schedule.h)
  int64_t max_seq_length = 256;
  uint64_t seed = 0;
  int64_t log_every_steps = 10;
  int64_t max_steps = 0;          // 0: no limit
  int64_t eval_every_steps = 0;   // 0: once per epoch
  int64_t max_eval_examples = 0;  // 0: all
  std::string precision = "fp32";  // "fp32", "bf16" or "fp16" (CUDA only, dynamic loss scaling)
  bool activation_checkpointing = false;  // recompute block activations in backward
  bool evaluate_only = false;  // the final evaluation of the model as given; no training
  std::string lr_scheduler = "linear";  // "linear", "cosine" or "constant" (see lr_schedule.h)
  double label_smoothing = 0.0;         // 0..<1, training loss only
  // "config": the model's config.json dropout rates while training; "off": none.
  std::string model_dropout = "config";
  // Early stopping and best-model export (see early_stopping.h). Patience 0: never stop early.
  int64_t early_stopping_patience = 0;
  std::string early_stopping_metric = "accuracy";  // "accuracy", "loss" or "macro_f1"
  bool keep_best_model = false;

  // Checkpoints in <output_dir>/checkpoints, for an exact resume of a re-run job (see
  // train/trainer.h). 0: every 100 optimizer steps; N > 0: every N steps; either way also at the
  // end of each epoch (which includes the last step). Negative: none.
  int64_t checkpoint_every_steps = 0;
  double checkpoint_every_seconds = 0;  // > 0: also when this long has passed since the last one

  // Data pipeline and memory (docs/design.md "Data pipeline"). effective_batch_size: examples per
  // optimizer step; 0 means micro_batch_size x accumulation_steps, otherwise it must equal that
  // product, except with auto_micro_batch: then micro_batch_size is only an upper limit (0: none)
  // and the worker picks it (auto_micro_batch.h) and derives accumulation_steps.
  bool group_by_length = false;  // length-grouped windows (epoch_plan.h)
  int64_t effective_batch_size = 0;
  bool auto_micro_batch = false;
  double memory_budget_mb = 0;  // for auto_micro_batch; 0: 50 % of MemAvailable (CPU)
  std::string token_cache_dir;  // "": tokenize every time (token_cache.h)

  int threads = 0;         // intra-op threads; 0: all cores
  // On a CPU with several threads, split each micro-batch's rows between single-threaded
  // replicas of the model where the job allows it (cpu_replicas.h); false: one model whose ops
  // use every thread.
  bool cpu_replicas = true;
  std::string output_dir;  // model.safetensors, config.json, result.json go here
  std::string spec_json;   // the job spec as JSON, copied into result.json

  // "sequence_classification" or "causal_lm" (see job.proto's JobSpec.task).
  std::string task = "sequence_classification";
  bool train_on_prompt = false;  // causal_lm: the prompt's tokens are targets too
  bool packing = false;  // causal_lm: examples packed into rows of max_seq_length (packing.h)
  // causal_lm: renders {"messages"} rows with the model's chat template; empty when the model
  // has none (such rows then fail the job, naming the file and line).
  ChatRenderer chat_renderer;

  // LoRA (worker/adapters): enabled trains an adapter beside the frozen base.
  adapters::LoraOptions lora;

  // Data parallelism (worker/distributed): set from the lease, not from the job spec.
  DistributedOptions distributed;

  TrainTestHooks test_hooks;
};

struct ProgressReport {
  int64_t step = 0;
  int64_t total_steps = 0;
  int64_t epoch = 0;  // 1-based
  double loss = 0;    // mean training loss since the previous report, per example (causal LM:
                      // per target token)
  double learning_rate = 0;
  double samples_per_second = 0;
  double tokens_per_second = 0;
  double eta_seconds = 0;
  int64_t samples_seen = 0;
  int64_t tokens_seen = 0;
  double grad_norm = 0;
  double step_seconds = 0;             // mean optimizer-step time since the previous report
  std::vector<double> step_durations;  // each optimizer step's time since the previous report
  int64_t skipped_steps = 0;  // fp16: optimizer steps skipped for inf/NaN gradients, so far
  double loss_scale = 0;      // fp16: the current loss scale (0 when not scaling)
  uint64_t device_memory_bytes = 0;       // see device_memory.h; 0: unknown
  uint64_t device_memory_peak_bytes = 0;
  // Data parallel (world_size > 1): this rank's mean time per optimizer step spent in the
  // gradient all-reduce since the previous report, the part not hidden behind the backward (from
  // the backward's end to the last sum's arrival, waiting for slower ranks included); 0 otherwise.
  double communication_seconds = 0;
};

// A committed checkpoint (checkpoint_store.h).
struct CheckpointReport {
  int64_t step = 0;
  uint64_t bytes = 0;
  double seconds = 0;  // writing and committing it
};

// One class's scores (see class_metrics.h for the conventions on empty denominators).
struct ClassMetrics {
  std::string label;
  double precision = 0;
  double recall = 0;
  double f1 = 0;
  int64_t support = 0;    // examples of the class
  int64_t predicted = 0;  // examples predicted as the class
};

struct EvalReport {
  std::string split;  // "validation" or "test"
  int64_t step = 0;
  double loss = 0;
  double accuracy = 0;
  int64_t examples = 0;
  std::vector<ClassMetrics> classes = {};  // per label id
  double macro_f1 = 0;
  std::vector<int64_t> confusion = {};  // row-major classes x classes: [true * n + predicted]
  // Causal LM: loss and accuracy are per target token; perplexity = exp(loss).
  double perplexity = 0;
  int64_t target_tokens = 0;
};

// Called from the training thread. StopRequested() is polled between micro-batches, so a cancel
// takes effect within one micro-batch.
class TrainObserver {
 public:
  virtual ~TrainObserver() = default;
  virtual void OnProgress(const ProgressReport& report) {}
  virtual void OnEvaluation(const EvalReport& report) {}
  virtual void OnLog(const std::string& level, const std::string& message) {}
  virtual void OnCheckpoint(const CheckpointReport& report) {}
  virtual bool StopRequested() { return false; }
  // Asked once training stopped on StopRequested() inside a step: true (a worker shutting down)
  // writes a checkpoint of the last finished step first, so that the job resumes from there.
  virtual bool CheckpointBeforeStopping() { return false; }
};

struct TrainOutcome {
  enum class Status { kSucceeded, kFailed, kCancelled };
  Status status = Status::kFailed;
  std::string error;                    // for kFailed: what went wrong, with context
  std::vector<EvalReport> final_evals;  // last validation and test evaluation
  int64_t steps = 0;
};

// Trains one job. Never throws: data errors, LibTorch errors and bad options become kFailed with
// a message naming the file/line or the step.
TrainOutcome RunTrainingJob(const TrainOptions& options, TrainObserver* observer);

}  // namespace ft::train
