// Builds the JobSpec that `ftctl submit` sends, from an optional -f JSON file and the flags.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ft/v1/job.pb.h"

namespace ft::client {

// ftctl's own defaults for fields that neither a flag nor the JSON file set. Every other field is
// left at zero/empty so that ftd applies its documented defaults.
inline constexpr uint32_t kDefaultMicroBatchSize = 8;
inline constexpr uint32_t kDefaultAccumulationSteps = 1;
inline constexpr uint32_t kDefaultEpochs = 1;

// JobSpec fields given on the command line. A field set here overrides the -f file's.
struct SpecFlags {
  std::optional<std::string> model;
  std::optional<std::string> tokenizer;
  std::optional<std::string> dataset_name;
  std::optional<std::string> train;
  std::optional<std::string> validation;
  std::optional<std::string> test;
  std::optional<std::string> format;
  std::optional<std::string> text_column;
  std::optional<std::string> label_column;
  std::optional<double> validation_fraction;
  std::optional<uint32_t> micro_batch_size;
  std::optional<uint32_t> accumulation_steps;
  std::optional<uint32_t> epochs;
  std::optional<double> learning_rate;
  std::optional<std::string> optimizer;
  std::optional<uint32_t> max_seq_length;
  std::optional<uint64_t> seed;
  std::optional<uint32_t> log_every_steps;
  std::optional<uint32_t> max_steps;
  std::optional<uint32_t> eval_every_steps;
  std::optional<uint32_t> max_eval_examples;
  std::optional<double> weight_decay;
  std::optional<double> max_grad_norm;
  std::optional<uint32_t> warmup_steps;
  std::optional<std::string> precision;
  std::optional<uint32_t> checkpoint_every_steps;
  std::optional<bool> activation_checkpointing;
  std::optional<bool> evaluate_only;
  std::optional<std::string> lr_scheduler;
  std::optional<double> label_smoothing;
  std::optional<std::string> model_dropout;
  std::optional<uint32_t> early_stopping_patience;
  std::optional<std::string> early_stopping_metric;
  std::optional<bool> keep_best_model;
  std::optional<std::string> display_name;
  std::optional<uint32_t> effective_batch_size;
  std::optional<bool> auto_micro_batch;
  std::optional<bool> group_by_length;
  std::optional<std::string> task;
  std::optional<bool> train_on_prompt;
  std::vector<std::string> notify;  // webhook URLs, added to the spec file's
  std::optional<bool> packing;
  std::optional<uint32_t> world_size;
  // LoRA (JobSpec.lora): any of these turns it on.
  std::optional<bool> lora;
  std::optional<uint32_t> lora_r;
  std::optional<double> lora_alpha;
  std::optional<double> lora_dropout;
  std::optional<std::vector<std::string>> lora_target_modules;
  std::optional<bool> lora_use_rslora;
  std::optional<std::string> lora_base_precision;
  std::optional<bool> lora_merge;
  std::optional<std::string> lora_adapter;
};

// Parses a JobSpec in the protobuf JSON mapping (either field-name style). Unknown fields are an
// error. INVALID_ARGUMENT names `source` (the file) and what is wrong.
absl::StatusOr<ft::v1::JobSpec> ParseJobSpecJson(absl::string_view json, absl::string_view source);

// Reads and parses a JobSpec JSON file ("-": standard input).
absl::StatusOr<ft::v1::JobSpec> LoadJobSpecFile(const std::string& path);

// `path` made absolute against `base_dir` and normalized; empty stays empty.
std::string AbsolutePath(const std::string& path, const std::string& base_dir);

// `base` (from -f, or empty) with every set flag applied over it, ftctl's defaults filled in
// where the field is still zero, and the dataset paths made absolute against `cwd`.
// INVALID_ARGUMENT when the model or the train path is missing.
absl::StatusOr<ft::v1::JobSpec> BuildJobSpec(ft::v1::JobSpec base, const SpecFlags& flags,
                                             const std::string& cwd);

// A random idempotency key, 32 hex digits as 8-4-4-4-12.
std::string NewRequestId();

}  // namespace ft::client
