#include "worker/train/options_check.h"

#include "common/data/dataset.h"
#include "common/models/hf_config.h"
#include "common/models/model_folder.h"
#include "worker/eval/early_stopping.h"
#include "worker/train/lr_schedule.h"

namespace ft::train {
namespace {

std::string Quoted(const std::string& text) { return "\"" + text + "\""; }

// The first problem with the numeric and named options, or "" when there is none.
std::string FirstProblem(const TrainOptions& options) {
  if (options.train_path.empty()) return "train_path is empty";
  if (options.output_dir.empty()) return "output_dir is empty";
  if (options.optimizer != "adamw" && options.optimizer != "sgd") {
    return "unknown optimizer " + Quoted(options.optimizer) + " (expected \"adamw\" or \"sgd\")";
  }
  if (options.precision != "fp32" && options.precision != "bf16" && options.precision != "fp16") {
    return "precision " + Quoted(options.precision) +
           " is not supported (expected \"fp32\", \"bf16\" or \"fp16\")";
  }
  if (!options.format.empty() && !data::ParseFormat(options.format)) {
    return "unknown format " + Quoted(options.format) +
           " (expected \"\", \"csv\", \"tsv\", \"jsonl\" or \"aclimdb\")";
  }
  if (options.auto_micro_batch) {
    if (options.effective_batch_size < 1) {
      return "auto_micro_batch needs effective_batch_size (at least 1)";
    }
    if (options.micro_batch_size < 0) return "micro_batch_size must not be negative";
    if (options.memory_budget_mb < 0) return "memory_budget_mb must not be negative";
  } else {
    if (options.micro_batch_size < 1) return "micro_batch_size must be at least 1";
    if (options.accumulation_steps < 1) return "accumulation_steps must be at least 1";
    if (options.effective_batch_size != 0 &&
        options.effective_batch_size != options.micro_batch_size * options.accumulation_steps) {
      return "effective_batch_size " + std::to_string(options.effective_batch_size) +
             " is not micro_batch_size x accumulation_steps (" +
             std::to_string(options.micro_batch_size) + " x " +
             std::to_string(options.accumulation_steps) + ")";
    }
  }
  if (options.epochs < 1) return "epochs must be at least 1";
  if (!(options.learning_rate > 0)) return "learning_rate must be positive";
  if (options.weight_decay < 0) return "weight_decay must not be negative";
  if (options.max_grad_norm < 0) return "max_grad_norm must not be negative (0: no clipping)";
  if (options.warmup_steps < 0) return "warmup_steps must not be negative";
  if (options.max_seq_length < 1) return "max_seq_length must be at least 1";
  if (options.log_every_steps < 1) return "log_every_steps must be at least 1";
  if (options.max_steps < 0) return "max_steps must not be negative (0: no limit)";
  if (options.eval_every_steps < 0) return "eval_every_steps must not be negative";
  if (options.max_eval_examples < 0) return "max_eval_examples must not be negative (0: all)";
  if (options.threads < 0) return "threads must not be negative (0: all cores)";
  if (!ParseScheduleKind(options.lr_scheduler)) {
    return "unknown lr_scheduler " + Quoted(options.lr_scheduler) +
           " (expected \"linear\", \"cosine\" or \"constant\")";
  }
  if (!(options.label_smoothing >= 0 && options.label_smoothing < 1)) {
    return "label_smoothing must be in [0, 1)";
  }
  if (options.early_stopping_patience < 0) {
    return "early_stopping_patience must not be negative (0: off)";
  }
  if (!ParseStoppingMetric(options.early_stopping_metric)) {
    return "unknown early_stopping_metric " + Quoted(options.early_stopping_metric) +
           " (expected \"accuracy\", \"loss\" or \"macro_f1\")";
  }
  if (options.validation_path.empty() &&
      !(options.validation_fraction >= 0 && options.validation_fraction < 1)) {
    return "validation_fraction must be in [0, 1)";
  }
  if (options.task != "sequence_classification" && options.task != "causal_lm") {
    return "unknown task " + Quoted(options.task) +
           " (expected \"sequence_classification\" or \"causal_lm\")";
  }
  if (options.train_on_prompt && options.task != "causal_lm") {
    return "train_on_prompt is only for task \"causal_lm\"";
  }
  if (options.packing && options.task != "causal_lm") {
    return "packing is only for task \"causal_lm\"";
  }
  if (std::string lora = adapters::LoraOptionsProblem(options.lora); !lora.empty()) return lora;
  if (options.task == "causal_lm" && options.early_stopping_metric == "macro_f1" &&
      (options.early_stopping_patience > 0 || options.keep_best_model)) {
    return "early_stopping_metric \"macro_f1\" has no meaning for task \"causal_lm\" (use "
           "\"loss\" or \"accuracy\", the token accuracy)";
  }
  return "";
}

// causal_lm needs a decoder: its *ForCausalLM class is what the job trains.
std::string TaskProblem(const TrainOptions& options, const models::ModelConfig& config) {
  if (options.task != "causal_lm") return "";
  switch (config.family) {
    case models::ModelFamily::kBloom:
    case models::ModelFamily::kGpt2:
    case models::ModelFamily::kLlama:
      return "";
    default:
      return "task \"causal_lm\" needs a decoder model (bloom, gpt2, llama, mistral, qwen2); " +
             Quoted(config.model_type) + " is an encoder or a TorchScript classifier";
  }
}

}  // namespace

std::optional<models::ModelConfig> CheckOptions(const TrainOptions& options, std::string& error) {
  if (!models::IsScratchModelName(options.model)) {
    try {
      models::ModelConfig config = models::ReadModelFolderConfig(options.model);
      error = FirstProblem(options);
      if (error.empty()) error = TaskProblem(options, config);
      if (error.empty()) return config;
    } catch (const models::ModelFolderError& folder_error) {
      error = std::string("model: ") + folder_error.what();
    }
    return std::nullopt;
  }
  const std::optional<models::ScratchModel> model = models::FindScratchModel(options.model);
  if (!model) {
    error = "unknown model " + Quoted(options.model) +
            "; the training core currently builds only " + models::ScratchModelNames();
    return std::nullopt;
  }
  error = FirstProblem(options);
  if (!error.empty()) return std::nullopt;
  if (!model->hf_config_json.empty()) {
    return models::ParseModelConfigJson(model->hf_config_json, options.model);
  }
  return models::ScratchModelConfig(model->bloom);
}

}  // namespace ft::train
