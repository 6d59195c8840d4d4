// The one table of TrainOptions' fields. Each row says where a field comes from in the job spec,
// whether result.json reports it and whether a resume must match it (the checkpoint
// fingerprint). ToTrainOptions (worker/daemon/spec_to_options.cc), result.json's "options"
// (worker/output/result_json.cc) and ResumeFingerprint (worker/checkpoint/checkpoint_header.cc)
// all walk this table, so a new option is one row here; docs/design.md "Adding a training option"
// has the checklist. tests/unit/worker/daemon/train_option_table_test.cc fails when a field of
// TrainOptions or of JobSpec has no row.
//
// Header only and standard library only: ft_worker_lease reads it without linking the training
// core, and the training core builds where only LibTorch is installed (tests/gpu/run.sh).
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>
#include <variant>

#include "worker/train/train_job.h"

namespace ft::train {

// A plain member of TrainOptions, or none for the struct-valued ones (lora, chat_renderer,
// distributed, test_hooks), which their readers handle by hand.
using OptionMember =
    std::variant<std::monostate, std::string TrainOptions::*, bool TrainOptions::*,
                 int TrainOptions::*, int64_t TrainOptions::*, uint64_t TrainOptions::*,
                 double TrainOptions::*>;

// When the checkpoint fingerprint records a field (a resume then refuses another value).
enum class Fingerprinted {
  kNo,
  kAlways,
  // Only when the value differs from TrainOptions' default, so that checkpoints written before
  // the option existed still resume: the choice for a new option that changes the run.
  kWhenNotDefault,
  kWhenTaskNotDefault,  // for every task but sequence_classification, as `task` itself
  // With early stopping or keep_best_model, which evaluations exist decides when the run stops
  // and which weights are the best.
  kWhenTrackingValidation,
};

struct TrainOptionField {
  const char* name;  // the key in result.json's "options" and in the checkpoint fingerprint
  OptionMember member;
  // The JobSpec field it is copied from: "=" the one of the same name, "dataset.train" a
  // DatasetSpec field, "" none (set by the worker, or by hand in ToTrainOptions).
  const char* spec_field;
  bool in_result_json;
  Fingerprinted fingerprint;
  // An empty spec string (a spec stored before the field existed) keeps TrainOptions' default.
  bool empty_spec_keeps_default = false;
};

// Short names for the rows below.
namespace option_rows {
using O = TrainOptions;
inline constexpr const char* kByName = "=";  // the JobSpec field of the same name
inline constexpr const char* kNotFromSpec = "";
inline constexpr bool kResult = true;
inline constexpr bool kNoResult = false;
inline constexpr bool kEmptyKeepsDefault = true;
inline constexpr Fingerprinted kNo = Fingerprinted::kNo;
inline constexpr Fingerprinted kAlways = Fingerprinted::kAlways;
inline constexpr Fingerprinted kUnlessDefault = Fingerprinted::kWhenNotDefault;
inline constexpr Fingerprinted kWithTask = Fingerprinted::kWhenTaskNotDefault;
inline constexpr Fingerprinted kWithTracking = Fingerprinted::kWhenTrackingValidation;

// Every field of TrainOptions, in the order of result.json's "options".
// {name, member, spec field, in result.json, fingerprint[, kEmptyKeepsDefault]}
inline constexpr TrainOptionField kRows[] = {
  {"model", &O::model, kByName, kResult, kAlways},
  // Other ids for the same text: another job (but checkpoints written without it still resume).
  {"tokenizer", &O::tokenizer, kByName, kResult, kUnlessDefault},
  {"train_path", &O::train_path, "dataset.train", kResult, kAlways},
  {"validation_path", &O::validation_path, "dataset.validation", kResult, kAlways},
  {"test_path", &O::test_path, "dataset.test", kResult, kNo},
  {"format", &O::format, "dataset.format", kResult, kAlways},
  {"text_column", &O::text_column, "dataset.text_column", kResult, kAlways},
  {"label_column", &O::label_column, "dataset.label_column", kResult, kAlways},
  {"validation_fraction", &O::validation_fraction, "dataset.validation_fraction", kResult, kAlways},
  // Copied by name, then replaced by the resolved batch geometry (ToTrainOptions).
  {"micro_batch_size", &O::micro_batch_size, kByName, kResult, kAlways},
  {"accumulation_steps", &O::accumulation_steps, kByName, kResult, kAlways},
  // From the batch geometry; result.json reports micro_batch_size x accumulation_steps.
  {"effective_batch_size", &O::effective_batch_size, kNotFromSpec, kResult, kNo},
  {"group_by_length", &O::group_by_length, kByName, kResult, kUnlessDefault},
  {"auto_micro_batch", &O::auto_micro_batch, kNotFromSpec, kResult, kNo},
  {"memory_budget_mb", &O::memory_budget_mb, kNotFromSpec, kResult, kNo},
  {"token_cache_dir", &O::token_cache_dir, kNotFromSpec, kResult, kNo},
  {"epochs", &O::epochs, kByName, kResult, kAlways},
  {"learning_rate", &O::learning_rate, kByName, kResult, kAlways},
  {"optimizer", &O::optimizer, kByName, kResult, kAlways},
  {"weight_decay", &O::weight_decay, kByName, kResult, kAlways},
  {"max_grad_norm", &O::max_grad_norm, kByName, kResult, kAlways},
  {"warmup_steps", &O::warmup_steps, kByName, kResult, kAlways},
  {"max_seq_length", &O::max_seq_length, kByName, kResult, kAlways},
  {"seed", &O::seed, kByName, kResult, kAlways},
  {"log_every_steps", &O::log_every_steps, kByName, kResult, kNo},
  {"max_steps", &O::max_steps, kByName, kResult, kAlways},
  {"eval_every_steps", &O::eval_every_steps, kByName, kResult, kWithTracking},
  {"max_eval_examples", &O::max_eval_examples, kByName, kResult, kWithTracking},
  {"precision", &O::precision, kByName, kResult, kAlways},
  {"activation_checkpointing", &O::activation_checkpointing, kByName, kResult, kNo},
  {"lr_scheduler", &O::lr_scheduler, kByName, kResult, kAlways, kEmptyKeepsDefault},
  {"label_smoothing", &O::label_smoothing, kByName, kResult, kAlways},
  {"model_dropout", &O::model_dropout, kByName, kResult, kUnlessDefault, kEmptyKeepsDefault},
  {"early_stopping_patience", &O::early_stopping_patience, kByName, kResult, kAlways},
  {"early_stopping_metric", &O::early_stopping_metric, kByName, kResult, kAlways,
   kEmptyKeepsDefault},
  {"keep_best_model", &O::keep_best_model, kByName, kResult, kAlways},
  {"task", &O::task, kByName, kResult, kWithTask, kEmptyKeepsDefault},
  {"train_on_prompt", &O::train_on_prompt, kByName, kResult, kWithTask},
  {"packing", &O::packing, kByName, kResult, kNo},
  {"evaluate_only", &O::evaluate_only, kByName, kResult, kNo},  // writes no checkpoint
  {"checkpoint_every_steps", &O::checkpoint_every_steps, kByName, kResult, kNo},
  {"checkpoint_every_seconds", &O::checkpoint_every_seconds, kNotFromSpec, kResult, kNo},
  {"threads", &O::threads, kNotFromSpec, kResult, kNo},
  {"cpu_replicas", &O::cpu_replicas, kNotFromSpec, kResult, kNo},
  {"output_dir", &O::output_dir, kNotFromSpec, kResult, kNo},
  {"spec_json", &O::spec_json, kNotFromSpec, kNoResult, kNo},
  // Struct-valued. LoraOptions::Fields() feeds result.json and the fingerprint ("lora.*").
  {"lora", {}, kNotFromSpec, kNoResult, kNo},
  {"chat_renderer", {}, kNotFromSpec, kNoResult, kNo},
  {"distributed", {}, kNotFromSpec, kNoResult, kNo},
  {"test_hooks", {}, kNotFromSpec, kNoResult, kNo},
};
}  // namespace option_rows

inline constexpr const auto& kTrainOptionFields = option_rows::kRows;

// Calls visit(value) with the field's value; not for struct-valued rows (no member).
template <typename Visit>
void VisitOption(const TrainOptions& options, const TrainOptionField& field, Visit&& visit) {
  std::visit(
      [&](auto member) {
        if constexpr (!std::is_same_v<decltype(member), std::monostate>) visit(options.*member);
      },
      field.member);
}

// Whether the checkpoint fingerprint of a run with `options` records `field`.
inline bool InFingerprint(const TrainOptions& options, const TrainOptionField& field) {
  static const TrainOptions kDefaults;
  switch (field.fingerprint) {
    case Fingerprinted::kNo:
      return false;
    case Fingerprinted::kAlways:
      return true;
    case Fingerprinted::kWhenNotDefault:
      return std::visit(
          [&](auto member) {
            if constexpr (std::is_same_v<decltype(member), std::monostate>) {
              return false;
            } else {
              return options.*member != kDefaults.*member;
            }
          },
          field.member);
    case Fingerprinted::kWhenTaskNotDefault:
      return options.task != kDefaults.task;
    case Fingerprinted::kWhenTrackingValidation:
      return options.early_stopping_patience > 0 || options.keep_best_model;
  }
  return false;
}

}  // namespace ft::train
