#include "client/lib/config/spec_flags.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <random>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/util/json_util.h"
#include "common/fetch/hub_model.h"
#include "common/models/model_folder.h"

namespace ft::client {
namespace {

template <typename T, typename Setter>
void ApplyIfSet(const std::optional<T>& value, Setter set) {
  if (value.has_value()) set(*value);
}

}  // namespace

absl::StatusOr<ft::v1::JobSpec> ParseJobSpecJson(absl::string_view json, absl::string_view source) {
  ft::v1::JobSpec spec;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  const auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &spec, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": not a JobSpec in protobuf JSON: ", std::string(status.message())));
  }
  return spec;
}

absl::StatusOr<ft::v1::JobSpec> LoadJobSpecFile(const std::string& path) {
  std::string text;
  if (path == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::ifstream in(path);
    if (!in) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": cannot read: ", std::strerror(errno)));
    }
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return ParseJobSpecJson(text, path == "-" ? "<stdin>" : path);
}

std::string AbsolutePath(const std::string& path, const std::string& base_dir) {
  if (path.empty()) return path;
  std::filesystem::path p(path);
  if (!p.is_absolute()) p = std::filesystem::path(base_dir) / p;
  return p.lexically_normal().string();
}

namespace {

void ApplyLoraFlags(const SpecFlags& flags, ft::v1::JobSpec& spec) {
  const bool any = (flags.lora && *flags.lora) || flags.lora_r || flags.lora_alpha ||
                   flags.lora_dropout || flags.lora_target_modules || flags.lora_use_rslora ||
                   flags.lora_base_precision || flags.lora_merge || flags.lora_adapter;
  if (!any) return;
  ft::v1::LoraSpec& lora = *spec.mutable_lora();
  ApplyIfSet(flags.lora_r, [&](uint32_t v) { lora.set_r(v); });
  ApplyIfSet(flags.lora_alpha, [&](double v) { lora.set_alpha(v); });
  ApplyIfSet(flags.lora_dropout, [&](double v) { lora.set_dropout(v); });
  ApplyIfSet(flags.lora_target_modules, [&](const std::vector<std::string>& v) {
    lora.clear_target_modules();
    for (const std::string& name : v) lora.add_target_modules(name);
  });
  ApplyIfSet(flags.lora_use_rslora, [&](bool v) { lora.set_use_rslora(v); });
  ApplyIfSet(flags.lora_base_precision, [&](const std::string& v) { lora.set_base_precision(v); });
  ApplyIfSet(flags.lora_merge, [&](bool v) { lora.set_merge(v); });
  ApplyIfSet(flags.lora_adapter, [&](const std::string& v) { lora.set_adapter(v); });
}

}  // namespace

absl::StatusOr<ft::v1::JobSpec> BuildJobSpec(ft::v1::JobSpec base, const SpecFlags& flags,
                                             const std::string& cwd) {
  ft::v1::JobSpec& spec = base;
  ft::v1::DatasetSpec& data = *spec.mutable_dataset();
  ApplyIfSet(flags.model, [&](const std::string& v) { spec.set_model(v); });
  ApplyIfSet(flags.tokenizer, [&](const std::string& v) { spec.set_tokenizer(v); });
  ApplyIfSet(flags.dataset_name, [&](const std::string& v) { data.set_name(v); });
  ApplyIfSet(flags.train, [&](const std::string& v) { data.set_train(v); });
  ApplyIfSet(flags.validation, [&](const std::string& v) { data.set_validation(v); });
  ApplyIfSet(flags.test, [&](const std::string& v) { data.set_test(v); });
  ApplyIfSet(flags.format, [&](const std::string& v) { data.set_format(v); });
  ApplyIfSet(flags.text_column, [&](const std::string& v) { data.set_text_column(v); });
  ApplyIfSet(flags.label_column, [&](const std::string& v) { data.set_label_column(v); });
  ApplyIfSet(flags.validation_fraction, [&](double v) { data.set_validation_fraction(v); });
  ApplyIfSet(flags.micro_batch_size, [&](uint32_t v) { spec.set_micro_batch_size(v); });
  ApplyIfSet(flags.accumulation_steps, [&](uint32_t v) { spec.set_accumulation_steps(v); });
  ApplyIfSet(flags.epochs, [&](uint32_t v) { spec.set_epochs(v); });
  ApplyIfSet(flags.learning_rate, [&](double v) { spec.set_learning_rate(v); });
  ApplyIfSet(flags.optimizer, [&](const std::string& v) { spec.set_optimizer(v); });
  ApplyIfSet(flags.max_seq_length, [&](uint32_t v) { spec.set_max_seq_length(v); });
  ApplyIfSet(flags.seed, [&](uint64_t v) { spec.set_seed(v); });
  ApplyIfSet(flags.log_every_steps, [&](uint32_t v) { spec.set_log_every_steps(v); });
  ApplyIfSet(flags.max_steps, [&](uint32_t v) { spec.set_max_steps(v); });
  ApplyIfSet(flags.eval_every_steps, [&](uint32_t v) { spec.set_eval_every_steps(v); });
  ApplyIfSet(flags.max_eval_examples, [&](uint32_t v) { spec.set_max_eval_examples(v); });
  ApplyIfSet(flags.weight_decay, [&](double v) { spec.set_weight_decay(v); });
  ApplyIfSet(flags.max_grad_norm, [&](double v) { spec.set_max_grad_norm(v); });
  ApplyIfSet(flags.warmup_steps, [&](uint32_t v) { spec.set_warmup_steps(v); });
  ApplyIfSet(flags.precision, [&](const std::string& v) { spec.set_precision(v); });
  ApplyIfSet(flags.checkpoint_every_steps,
             [&](uint32_t v) { spec.set_checkpoint_every_steps(v); });
  ApplyIfSet(flags.activation_checkpointing,
             [&](bool v) { spec.set_activation_checkpointing(v); });
  ApplyIfSet(flags.evaluate_only, [&](bool v) { spec.set_evaluate_only(v); });
  ApplyIfSet(flags.lr_scheduler, [&](const std::string& v) { spec.set_lr_scheduler(v); });
  ApplyIfSet(flags.label_smoothing, [&](double v) { spec.set_label_smoothing(v); });
  ApplyIfSet(flags.model_dropout, [&](const std::string& v) { spec.set_model_dropout(v); });
  ApplyIfSet(flags.early_stopping_patience,
             [&](uint32_t v) { spec.set_early_stopping_patience(v); });
  ApplyIfSet(flags.early_stopping_metric,
             [&](const std::string& v) { spec.set_early_stopping_metric(v); });
  ApplyIfSet(flags.keep_best_model, [&](bool v) { spec.set_keep_best_model(v); });
  ApplyIfSet(flags.display_name, [&](const std::string& v) { spec.set_display_name(v); });
  ApplyIfSet(flags.effective_batch_size, [&](uint32_t v) { spec.set_effective_batch_size(v); });
  ApplyIfSet(flags.auto_micro_batch, [&](bool v) { spec.set_auto_micro_batch(v); });
  ApplyIfSet(flags.group_by_length, [&](bool v) { spec.set_group_by_length(v); });
  ApplyIfSet(flags.task, [&](const std::string& v) { spec.set_task(v); });
  ApplyIfSet(flags.train_on_prompt, [&](bool v) { spec.set_train_on_prompt(v); });
  for (const std::string& url : flags.notify) spec.add_notify(url);
  ApplyIfSet(flags.packing, [&](bool v) { spec.set_packing(v); });
  ApplyIfSet(flags.world_size, [&](uint32_t v) { spec.set_world_size(v); });
  ApplyLoraFlags(flags, spec);

  // A value given explicitly (even 0) is sent as is, for ftd to judge; only unset fields default.
  // With an effective batch, accumulation is derived from it; with auto_micro_batch and an
  // effective batch the micro-batch size is only an optional limit.
  const bool effective = spec.effective_batch_size() != 0;
  if (!flags.micro_batch_size && spec.micro_batch_size() == 0 &&
      !(effective && spec.auto_micro_batch())) {
    spec.set_micro_batch_size(kDefaultMicroBatchSize);
  }
  if (!flags.accumulation_steps && spec.accumulation_steps() == 0 && !effective) {
    spec.set_accumulation_steps(kDefaultAccumulationSteps);
  }
  if (!flags.epochs && spec.epochs() == 0) spec.set_epochs(kDefaultEpochs);

  if (spec.model().empty()) {
    return absl::InvalidArgumentError(
        "submit: --model is required (or \"model\" in the -f file), e.g. scratch:bloom-tiny");
  }
  if (data.train().empty() && data.name().empty()) {
    return absl::InvalidArgumentError(
        "submit: --train or --dataset is required (or \"dataset\": {\"train\": ...} in the -f "
        "file)");
  }
  // ftd may run in another folder: send paths that mean the same thing there.
  data.set_train(AbsolutePath(data.train(), cwd));
  data.set_validation(AbsolutePath(data.validation(), cwd));
  data.set_test(AbsolutePath(data.test(), cwd));
  // "org/name" is a Hub id unless a local folder of that name exists.
  const bool hub_id = fetch::ParseHubModelId(spec.model()) &&
                      !std::filesystem::exists(AbsolutePath(spec.model(), cwd));
  if (!models::IsScratchModelName(spec.model()) && !hub_id) {
    spec.set_model(AbsolutePath(spec.model(), cwd));
  }
  spec.set_tokenizer(AbsolutePath(spec.tokenizer(), cwd));
  if (spec.has_lora()) {
    spec.mutable_lora()->set_adapter(AbsolutePath(spec.lora().adapter(), cwd));
  }
  return spec;
}

std::string NewRequestId() {
  std::random_device device;
  std::mt19937_64 engine((static_cast<uint64_t>(device()) << 32) ^ device());
  const uint64_t high = engine();
  const uint64_t low = engine();
  return absl::StrFormat("%08x-%04x-%04x-%04x-%012x", high >> 32, (high >> 16) & 0xffff,
                         high & 0xffff, low >> 48, low & 0xffffffffffffULL);
}

}  // namespace ft::client
