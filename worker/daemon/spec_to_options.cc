#include "worker/daemon/spec_to_options.h"

#include "common/spec/batch_geometry.h"
#include "google/protobuf/util/json_util.h"

namespace ft::worker {

train::TrainOptions ToTrainOptions(const ft::v1::JobSpec& spec, const std::string& output_dir,
                                   int threads) {
  train::TrainOptions options;
  options.model = spec.model();
  options.train_path = spec.dataset().train();
  options.validation_path = spec.dataset().validation();
  options.test_path = spec.dataset().test();
  options.format = spec.dataset().format();
  options.text_column = spec.dataset().text_column();
  options.label_column = spec.dataset().label_column();
  options.validation_fraction = spec.dataset().validation_fraction();
  options.micro_batch_size = spec.micro_batch_size();
  options.accumulation_steps = spec.accumulation_steps();
  // Validated before; a spec that fails here is refused again by the training core's own check.
  if (const auto geometry = spec::ResolveBatchGeometry(spec); geometry.ok()) {
    options.micro_batch_size = geometry->micro_batch_size;
    options.accumulation_steps = geometry->accumulation_steps;
    options.effective_batch_size = static_cast<int64_t>(geometry->effective_batch_size);
    options.auto_micro_batch = geometry->auto_micro_batch;
  }
  options.group_by_length = spec.group_by_length();
  options.epochs = spec.epochs();
  options.learning_rate = spec.learning_rate();
  options.optimizer = spec.optimizer();
  options.weight_decay = spec.weight_decay();
  options.max_grad_norm = spec.max_grad_norm();
  options.warmup_steps = spec.warmup_steps();
  options.max_seq_length = spec.max_seq_length();
  options.seed = spec.seed();
  options.log_every_steps = spec.log_every_steps();
  options.max_steps = spec.max_steps();
  options.eval_every_steps = spec.eval_every_steps();
  options.max_eval_examples = spec.max_eval_examples();
  options.precision = spec.precision();
  options.checkpoint_every_steps = spec.checkpoint_every_steps();
  options.activation_checkpointing = spec.activation_checkpointing();
  options.evaluate_only = spec.evaluate_only();
  // Empty (a spec stored before these fields existed): TrainOptions' defaults.
  if (!spec.lr_scheduler().empty()) options.lr_scheduler = spec.lr_scheduler();
  options.label_smoothing = spec.label_smoothing();
  options.early_stopping_patience = spec.early_stopping_patience();
  if (!spec.early_stopping_metric().empty()) {
    options.early_stopping_metric = spec.early_stopping_metric();
  }
  options.keep_best_model = spec.keep_best_model();
  if (!spec.task().empty()) options.task = spec.task();
  options.train_on_prompt = spec.train_on_prompt();
  options.packing = spec.packing();
  if (spec.has_lora()) {
    const ft::v1::LoraSpec& lora = spec.lora();
    options.lora.enabled = true;
    options.lora.r = lora.r();
    options.lora.alpha = lora.alpha();
    options.lora.dropout = lora.dropout();
    options.lora.target_modules.assign(lora.target_modules().begin(),
                                       lora.target_modules().end());
    options.lora.use_rslora = lora.use_rslora();
    if (!lora.base_precision().empty()) options.lora.base_precision = lora.base_precision();
    options.lora.merge = lora.merge();
    options.lora.adapter = lora.adapter();
  }
  options.threads = threads;
  options.output_dir = output_dir;
  google::protobuf::util::JsonPrintOptions json;
  json.preserve_proto_field_names = true;
  // A JobSpec always converts; the JSON only documents the run in result.json.
  (void)google::protobuf::util::MessageToJsonString(spec, &options.spec_json, json);
  return options;
}

}  // namespace ft::worker
