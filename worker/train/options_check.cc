#include "worker/train/options_check.h"

#include <stdexcept>

#include "common/data/dataset.h"
#include "common/models/end_of_sequence.h"
#include "common/models/hf_config.h"
#include "common/models/model_folder.h"
#include "worker/eval/early_stopping.h"
#include "worker/train/examples_per_step.h"
#include "worker/train/lr_schedule.h"

namespace ft::train {
namespace {

std::string Quoted(const std::string& text) { return "\"" + text + "\""; }

[[noreturn]] void Refuse(const std::string& problem) { throw std::invalid_argument(problem); }

// Throws std::invalid_argument naming the first problem with the numeric and named options.
void CheckValues(const TrainOptions& options) {
  if (options.train_path.empty()) Refuse("train_path is empty");
  if (options.output_dir.empty()) Refuse("output_dir is empty");
  if (options.optimizer != "adamw" && options.optimizer != "sgd") {
    Refuse("unknown optimizer " + Quoted(options.optimizer) + " (expected \"adamw\" or \"sgd\")");
  }
  if (options.precision != "fp32" && options.precision != "bf16" && options.precision != "fp16") {
    Refuse("precision " + Quoted(options.precision) +
           " is not supported (expected \"fp32\", \"bf16\" or \"fp16\")");
  }
  if (!options.format.empty() && !data::ParseFormat(options.format)) {
    Refuse("unknown format " + Quoted(options.format) +
           " (expected \"\", \"csv\", \"tsv\", \"jsonl\" or \"aclimdb\")");
  }
  const DistributedOptions& distributed = options.distributed;
  if (distributed.world_size < 1) Refuse("world_size must be at least 1");
  if (distributed.rank < 0 || distributed.rank >= distributed.world_size) {
    Refuse("rank " + std::to_string(distributed.rank) + " is not in 0.." +
           std::to_string(distributed.world_size - 1) + " (world_size " +
           std::to_string(distributed.world_size) + ")");
  }
  if (distributed.world_size > 1 && options.auto_micro_batch) {
    Refuse("auto_micro_batch is not supported with world_size > 1 yet; set micro_batch_size and "
           "accumulation_steps");
  }
  const int64_t world = distributed.world_size;
  if (options.auto_micro_batch) {
    if (options.effective_batch_size < 1) {
      Refuse("auto_micro_batch needs effective_batch_size (at least 1)");
    }
    if (options.micro_batch_size < 0) Refuse("micro_batch_size must not be negative");
    if (options.memory_budget_mb < 0) Refuse("memory_budget_mb must not be negative");
  } else {
    if (options.micro_batch_size < 1) Refuse("micro_batch_size must be at least 1");
    if (options.accumulation_steps < 1) Refuse("accumulation_steps must be at least 1");
    if (options.effective_batch_size != 0 &&
        options.effective_batch_size != ExamplesPerStep(options)) {
      Refuse("effective_batch_size " + std::to_string(options.effective_batch_size) +
             " is not world_size x micro_batch_size x accumulation_steps (" +
             std::to_string(world) + " x " + std::to_string(options.micro_batch_size) + " x " +
             std::to_string(options.accumulation_steps) + ")");
    }
  }
  if (options.epochs < 1) Refuse("epochs must be at least 1");
  if (!(options.learning_rate > 0)) Refuse("learning_rate must be positive");
  if (options.weight_decay < 0) Refuse("weight_decay must not be negative");
  if (options.max_grad_norm < 0) Refuse("max_grad_norm must not be negative (0: no clipping)");
  if (options.warmup_steps < 0) Refuse("warmup_steps must not be negative");
  if (options.max_seq_length < 1) Refuse("max_seq_length must be at least 1");
  if (options.log_every_steps < 1) Refuse("log_every_steps must be at least 1");
  if (options.max_steps < 0) Refuse("max_steps must not be negative (0: no limit)");
  if (options.eval_every_steps < 0) Refuse("eval_every_steps must not be negative");
  if (options.max_eval_examples < 0) Refuse("max_eval_examples must not be negative (0: all)");
  if (options.threads < 0) Refuse("threads must not be negative (0: all cores)");
  if (!ParseScheduleKind(options.lr_scheduler)) {
    Refuse("unknown lr_scheduler " + Quoted(options.lr_scheduler) +
           " (expected \"linear\", \"cosine\" or \"constant\")");
  }
  if (options.model_dropout != "config" && options.model_dropout != "off") {
    Refuse("unknown model_dropout " + Quoted(options.model_dropout) + " (config or off)");
  }
  if (!(options.label_smoothing >= 0 && options.label_smoothing < 1)) {
    Refuse("label_smoothing must be in [0, 1)");
  }
  if (options.early_stopping_patience < 0) {
    Refuse("early_stopping_patience must not be negative (0: off)");
  }
  if (!ParseStoppingMetric(options.early_stopping_metric)) {
    Refuse("unknown early_stopping_metric " + Quoted(options.early_stopping_metric) +
           " (expected \"accuracy\", \"loss\" or \"macro_f1\")");
  }
  if (options.validation_path.empty() &&
      !(options.validation_fraction >= 0 && options.validation_fraction < 1)) {
    Refuse("validation_fraction must be in [0, 1)");
  }
  if (options.task != "sequence_classification" && options.task != "causal_lm") {
    Refuse("unknown task " + Quoted(options.task) +
           " (expected \"sequence_classification\" or \"causal_lm\")");
  }
  if (options.train_on_prompt && options.task != "causal_lm") {
    Refuse("train_on_prompt is only for task \"causal_lm\"");
  }
  if (options.packing && options.task != "causal_lm") {
    Refuse("packing is only for task \"causal_lm\"");
  }
  if (std::string lora = adapters::LoraOptionsProblem(options.lora); !lora.empty()) Refuse(lora);
  if (options.task == "causal_lm" && options.early_stopping_metric == "macro_f1" &&
      (options.early_stopping_patience > 0 || options.keep_best_model)) {
    Refuse(
        "early_stopping_metric \"macro_f1\" has no meaning for task \"causal_lm\" (use "
        "\"loss\" or \"accuracy\", the token accuracy)");
  }
}

// causal_lm needs a decoder: its *ForCausalLM class is what the job trains.
void CheckTask(const TrainOptions& options, const models::ModelConfig& config) {
  if (options.task != "causal_lm") return;
  switch (config.family) {
    case models::ModelFamily::kBloom:
    case models::ModelFamily::kGpt2:
    case models::ModelFamily::kLlama:
      break;
    default:
      Refuse("task \"causal_lm\" needs a decoder model (bloom, gpt2, llama, mistral, qwen2); " +
             Quoted(config.model_type) + " is an encoder or a TorchScript classifier");
  }
  if (const std::string problem = models::EosTokenProblem(config); !problem.empty()) {
    Refuse(problem);
  }
}

}  // namespace

models::ModelConfig CheckOptions(const TrainOptions& options) {
  if (!models::IsScratchModelName(options.model)) {
    models::ModelConfig config;
    try {
      config = models::ReadModelFolderConfig(options.model);
    } catch (const models::ModelFolderError& folder_error) {
      throw std::invalid_argument(std::string("model: ") + folder_error.what());
    }
    CheckValues(options);
    CheckTask(options, config);
    return config;
  }
  const std::optional<models::ScratchModel> model = models::FindScratchModel(options.model);
  if (!model) {
    throw std::invalid_argument("unknown model " + Quoted(options.model) +
                                "; the training core currently builds only " +
                                models::ScratchModelNames());
  }
  CheckValues(options);
  // Scratch models of other families carry their config as transformers' config.json text.
  if (!model->hf_config_json.empty()) {
    models::ModelConfig config = models::ParseModelConfigJson(model->hf_config_json, options.model);
    CheckTask(options, config);
    return config;
  }
  if (model->family != "bloom") {
    throw std::invalid_argument("model " + Quoted(options.model) + " has family " +
                                Quoted(model->family) + " but no config to build it from");
  }
  return models::ScratchModelConfig(model->bloom);
}

}  // namespace ft::train
