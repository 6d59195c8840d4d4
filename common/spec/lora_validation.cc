#include "common/spec/lora_validation.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <optional>

#include "absl/strings/str_cat.h"
#include "common/models/hf_config.h"
#include "common/models/lora_targets.h"
#include "common/models/model_catalog.h"
#include "common/models/model_folder.h"
#include "common/spec/spec_limits.h"

namespace ft::spec {
namespace {

// The model's family when it can be known before training: a scratch model or a local folder.
std::optional<models::ModelFamily> KnownFamily(const std::string& model) {
  if (models::IsScratchModelName(model)) {
    const std::optional<models::ScratchModel> scratch = models::FindScratchModel(model);
    if (!scratch) return std::nullopt;
    if (scratch->hf_config_json.empty()) return models::ModelFamily::kBloom;
    return models::ParseModelConfigJson(scratch->hf_config_json, model).family;
  }
  if (!std::filesystem::is_directory(model)) return std::nullopt;
  try {
    return models::ReadModelFolderConfig(model).family;
  } catch (const std::exception&) {
    return std::nullopt;  // reported by the common model check
  }
}

void CheckTargets(const ft::v1::JobSpec& spec, std::vector<std::string>& problems) {
  const std::optional<models::ModelFamily> family = KnownFamily(spec.model());
  if (!family) return;
  const std::vector<std::string>& valid = models::LoraTargetModules(*family);
  const std::string family_name(models::FamilyName(*family));
  if (valid.empty()) {
    problems.push_back(absl::StrCat("spec.lora: a ", family_name,
                                    " model cannot carry LoRA updates"));
    return;
  }
  for (const std::string& target : spec.lora().target_modules()) {
    if (std::find(valid.begin(), valid.end(), target) == valid.end()) {
      problems.push_back(absl::StrCat("spec.lora.target_modules: unknown module '", target,
                                      "' for a ", family_name, " model (expected one of ",
                                      models::JoinedLoraTargets(*family), ")"));
    }
  }
}

}  // namespace

std::vector<std::string> LoraProblems(const ft::v1::JobSpec& spec) {
  std::vector<std::string> problems;
  if (!spec.has_lora()) return problems;
  const ft::v1::LoraSpec& lora = spec.lora();
  if (lora.adapter().empty()) {
    if (lora.r() < 1 || lora.r() > kMaxLoraRank) {
      problems.push_back(absl::StrCat("spec.lora.r: must be 1..", kMaxLoraRank, ", got ",
                                      lora.r()));
    }
    if (!std::isfinite(lora.alpha()) || lora.alpha() <= 0) {
      problems.push_back(absl::StrCat("spec.lora.alpha: must be > 0, got ", lora.alpha()));
    }
    CheckTargets(spec, problems);
  } else {
    if (lora.r() != 0 || lora.alpha() != 0 || lora.target_modules_size() != 0) {
      problems.push_back("spec.lora.adapter: the adapter folder's adapter_config.json sets r, "
                         "alpha and target_modules; leave them unset");
    }
    if (!std::filesystem::is_regular_file(
            std::filesystem::path(lora.adapter()) / "adapter_config.json")) {
      problems.push_back(absl::StrCat("spec.lora.adapter: ", lora.adapter(),
                                      " is not a PEFT adapter folder (no adapter_config.json)"));
    }
  }
  if (!std::isfinite(lora.dropout()) || lora.dropout() < 0 || lora.dropout() >= 1) {
    problems.push_back(absl::StrCat("spec.lora.dropout: must be in [0, 1), got ",
                                    lora.dropout()));
  }
  if (lora.base_precision() != "fp32" && lora.base_precision() != "bf16") {
    problems.push_back(absl::StrCat("spec.lora.base_precision: '", lora.base_precision(),
                                    "' is not supported (expected fp32 or bf16)"));
  }
  return problems;
}

}  // namespace ft::spec
