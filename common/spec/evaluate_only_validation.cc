#include "common/spec/evaluate_only_validation.h"

#include "absl/strings/str_cat.h"
#include "common/models/model_folder.h"

namespace ft::spec {

std::vector<std::string> EvaluateOnlyProblems(const ft::v1::JobSpec& spec) {
  std::vector<std::string> problems;
  if (!spec.evaluate_only()) return problems;
  const bool has_adapter = spec.has_lora() && !spec.lora().adapter().empty();
  if (spec.has_lora() && !has_adapter) {
    problems.push_back(
        "spec.evaluate_only: with spec.lora, spec.lora.adapter must name the adapter folder to "
        "evaluate (a new adapter has nothing trained)");
  } else if (!has_adapter && models::IsScratchModelName(spec.model())) {
    problems.push_back(absl::StrCat(
        "spec.evaluate_only: ", spec.model(), " has random weights; evaluate a model folder, or "
        "set spec.lora.adapter to evaluate an adapter on top of its base"));
  }
  // Fields that only shape training or its output: set with evaluate_only they would do nothing.
  if (spec.has_lora() && spec.lora().merge()) {
    problems.push_back("spec.lora.merge: not with evaluate_only, which writes no model");
  }
  if (spec.keep_best_model()) {
    problems.push_back("spec.keep_best_model: not with evaluate_only, which trains no weights");
  }
  if (spec.early_stopping_patience() > 0) {
    problems.push_back(
        "spec.early_stopping_patience: not with evaluate_only, which trains no weights");
  }
  return problems;
}

}  // namespace ft::spec
