#include "common/spec/spec_defaults.h"

#include <filesystem>

#include "common/fetch/hub_model.h"
#include "common/models/model_folder.h"
#include "common/spec/spec_limits.h"

namespace ft::spec {
namespace {

std::string Absolute(const std::string& path, const std::string& base_dir) {
  if (path.empty()) return path;
  std::filesystem::path p(path);
  if (p.is_absolute()) return p.lexically_normal().string();
  return (std::filesystem::path(base_dir) / p).lexically_normal().string();
}

}  // namespace

ft::v1::JobSpec WithDefaults(ft::v1::JobSpec spec, const std::string& base_dir) {
  if (spec.optimizer().empty()) spec.set_optimizer("adamw");
  if (spec.precision().empty()) spec.set_precision("fp32");
  if (spec.learning_rate() == 0) spec.set_learning_rate(kDefaultScratchLearningRate);
  if (spec.max_seq_length() == 0) spec.set_max_seq_length(kDefaultMaxSeqLength);
  if (spec.log_every_steps() == 0) spec.set_log_every_steps(kDefaultLogEverySteps);
  if (spec.lr_scheduler().empty()) spec.set_lr_scheduler(kDefaultLrScheduler);
  if (spec.task().empty()) spec.set_task("sequence_classification");
  if (spec.early_stopping_metric().empty() &&
      (spec.early_stopping_patience() > 0 || spec.keep_best_model())) {
    spec.set_early_stopping_metric(kDefaultEarlyStoppingMetric);
  }

  ft::v1::DatasetSpec* dataset = spec.mutable_dataset();
  if (dataset->text_column().empty()) dataset->set_text_column("text");
  if (dataset->label_column().empty()) dataset->set_label_column("label");
  if (dataset->validation().empty() && dataset->validation_fraction() == 0) {
    dataset->set_validation_fraction(kDefaultValidationFraction);
  }
  // "org/name" is a Hub id unless a local folder of that name exists.
  if (!models::IsScratchModelName(spec.model()) &&
      !(fetch::ParseHubModelId(spec.model()) &&
        !std::filesystem::exists(Absolute(spec.model(), base_dir)))) {
    spec.set_model(Absolute(spec.model(), base_dir));
  }
  spec.set_tokenizer(Absolute(spec.tokenizer(), base_dir));
  dataset->set_train(Absolute(dataset->train(), base_dir));
  dataset->set_validation(Absolute(dataset->validation(), base_dir));
  dataset->set_test(Absolute(dataset->test(), base_dir));
  if (spec.has_lora()) {
    ft::v1::LoraSpec* lora = spec.mutable_lora();
    // An adapter folder brings its own shape (checked against the spec at SubmitJob).
    if (lora->adapter().empty()) {
      if (lora->r() == 0) lora->set_r(kDefaultLoraRank);
      if (lora->alpha() == 0) lora->set_alpha(kDefaultLoraAlpha);
    }
    if (lora->base_precision().empty()) lora->set_base_precision("fp32");
    lora->set_adapter(Absolute(lora->adapter(), base_dir));
  }
  return spec;
}

}  // namespace ft::spec
