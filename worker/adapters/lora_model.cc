#include "worker/adapters/lora_model.h"

#include <algorithm>
#include <set>
#include <stdexcept>

#include "common/models/lora_targets.h"
#include "worker/adapters/lora_layer.h"

namespace ft::adapters {
namespace {

std::string LastComponent(const std::string& name) {
  const std::size_t dot = name.rfind('.');
  return dot == std::string::npos ? name : name.substr(dot + 1);
}

bool IsUnder(const std::string& name, const std::string& module) {
  return name == module || name.rfind(module + ".", 0) == 0;
}

bool IsUnderAny(const std::string& name, const std::vector<std::string>& modules) {
  return std::any_of(modules.begin(), modules.end(),
                     [&name](const std::string& module) { return IsUnder(name, module); });
}

}  // namespace

std::vector<std::string> ModulesToSave(const models::TrainableModelImpl& model) {
  std::vector<std::string> modules;
  if (model.task() != models::ModelTask::kSequenceClassification) return modules;
  for (const std::string& parameter : model.HeadParameterNames()) {
    const std::size_t dot = parameter.rfind('.');
    const std::string module = parameter.substr(0, dot);
    if (std::find(modules.begin(), modules.end(), module) == modules.end()) {
      modules.push_back(module);
    }
  }
  return modules;
}

LoraReport ApplyLora(models::TrainableModelImpl& model, models::ModelFamily family,
                     const LoraOptions& options) {
  const std::vector<std::string>& valid = models::LoraTargetModules(family);
  if (valid.empty()) {
    throw std::runtime_error("lora: a " + std::string(models::FamilyName(family)) +
                             " model cannot carry LoRA updates");
  }
  LoraReport report;
  report.target_modules = options.target_modules.empty() ? models::DefaultLoraTargets(family)
                                                         : options.target_modules;
  for (const std::string& target : report.target_modules) {
    if (std::find(valid.begin(), valid.end(), target) == valid.end()) {
      throw std::runtime_error("lora.target_modules: unknown module '" + target + "' for a " +
                               std::string(models::FamilyName(family)) +
                               " model (expected one of " + models::JoinedLoraTargets(family) +
                               ")");
    }
  }
  report.modules_to_save = ModulesToSave(model);
  for (auto& parameter : model.parameters()) parameter.set_requires_grad(false);

  const std::set<std::string> targets(report.target_modules.begin(),
                                      report.target_modules.end());
  std::set<std::string> matched;
  const LoraSettings settings{options.r, options.Scale(), options.dropout};
  const torch::ScalarType base_dtype =
      options.base_precision == "bf16" ? torch::kBFloat16 : torch::kFloat32;
  for (const auto& item : model.named_modules("", /*include_self=*/false)) {
    auto* layer = dynamic_cast<LoraLayer*>(item.value().get());
    if (layer == nullptr || IsUnderAny(item.key(), report.modules_to_save)) continue;
    if (base_dtype != torch::kFloat32) layer->SetBaseDtype(base_dtype);
    const std::string name = LastComponent(item.key());
    if (targets.count(name) == 0) continue;
    layer->AttachLora(settings);
    matched.insert(name);
    ++report.wrapped_layers;
  }
  for (const std::string& target : report.target_modules) {
    if (matched.count(target) == 0) {
      throw std::runtime_error("lora.target_modules: '" + target +
                               "' matches no linear layer of this model");
    }
  }
  for (auto& item : model.named_parameters()) {
    if (IsUnderAny(item.key(), report.modules_to_save)) item.value().set_requires_grad(true);
    report.total_parameters += item.value().numel();
    if (item.value().requires_grad()) report.trainable_parameters += item.value().numel();
  }
  return report;
}

std::vector<torch::Tensor> TrainableParameters(torch::nn::Module& model) {
  std::vector<torch::Tensor> trainable;
  for (const auto& parameter : model.parameters()) {
    if (parameter.requires_grad()) trainable.push_back(parameter);
  }
  return trainable;
}

std::vector<std::pair<std::string, torch::Tensor>> NamedTrainableParameters(
    torch::nn::Module& model) {
  std::vector<std::pair<std::string, torch::Tensor>> trainable;
  for (const auto& item : model.named_parameters()) {
    if (item.value().requires_grad()) trainable.emplace_back(item.key(), item.value());
  }
  return trainable;
}

std::vector<std::pair<std::string, torch::Tensor>> MergedParameters(torch::nn::Module& model) {
  std::vector<std::pair<std::string, torch::Tensor>> merged;
  std::set<std::string> update_parameters;
  for (const auto& item : model.named_modules("", /*include_self=*/false)) {
    auto* layer = dynamic_cast<LoraLayer*>(item.value().get());
    if (layer == nullptr || !layer->has_lora()) continue;
    update_parameters.insert(item.key() + ".lora_A.weight");
    update_parameters.insert(item.key() + ".lora_B.weight");
    merged.emplace_back(item.key() + ".weight", layer->MergedWeight());
  }
  std::set<std::string> done;
  for (const auto& entry : merged) done.insert(entry.first);
  for (const auto& item : model.named_parameters()) {
    if (update_parameters.count(item.key()) != 0 || done.count(item.key()) != 0) continue;
    merged.emplace_back(item.key(), item.value().detach().to(torch::kFloat32));
  }
  return merged;
}

}  // namespace ft::adapters
