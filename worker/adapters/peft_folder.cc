#include "worker/adapters/peft_folder.h"

#include <torch/types.h>
#include <torch/utils.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "common/util/atomic_file.h"
#include "worker/io/safetensors_reader.h"
#include "worker/output/model_export.h"

namespace ft::adapters {
namespace {

using Json = nlohmann::ordered_json;

std::string TaskType(models::ModelTask task) {
  return task == models::ModelTask::kCausalLm ? "CAUSAL_LM" : "SEQ_CLS";
}

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    text += (i == 0 ? "" : ", ") + std::to_string(shape[i]);
  }
  return text + "]";
}

// <folder>/adapter_config.json as a JSON object of peft_type LORA.
Json ReadAdapterJson(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot be read (a PEFT adapter folder has one)");
  std::stringstream text;
  text << in.rdbuf();
  Json json = Json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) throw std::runtime_error(path + ": not a JSON object");
  if (!json.contains("peft_type") || json["peft_type"] != "LORA") {
    throw std::runtime_error(path + ": peft_type must be \"LORA\"");
  }
  return json;
}

}  // namespace

std::string AdapterConfigJson(const LoraOptions& options, const LoraReport& report,
                              models::ModelFamily family, models::ModelTask task,
                              const std::string& base_model) {
  Json json;
  json["peft_type"] = "LORA";
  json["task_type"] = TaskType(task);
  json["base_model_name_or_path"] = base_model;
  json["r"] = options.r;
  json["lora_alpha"] = options.alpha;
  json["lora_dropout"] = options.dropout;
  json["target_modules"] = report.target_modules;
  json["use_rslora"] = options.use_rslora;
  json["fan_in_fan_out"] = family == models::ModelFamily::kGpt2;
  json["bias"] = "none";
  json["modules_to_save"] =
      report.modules_to_save.empty() ? Json(nullptr) : Json(report.modules_to_save);
  json["init_lora_weights"] = true;
  json["inference_mode"] = true;
  json["layers_to_transform"] = nullptr;
  json["layers_pattern"] = nullptr;
  json["rank_pattern"] = Json::object();
  json["alpha_pattern"] = Json::object();
  json["use_dora"] = false;
  json["revision"] = nullptr;
  return json.dump(2) + "\n";
}

void WritePeftAdapter(torch::nn::Module& model, const LoraOptions& options,
                      const LoraReport& report, models::ModelFamily family,
                      models::ModelTask task, const std::string& base_model,
                      const std::string& folder) {
  std::filesystem::create_directories(folder);
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  for (auto& [name, tensor] : NamedTrainableParameters(model)) {
    tensors.emplace_back(kPeftPrefix + name, tensor);
  }
  train::WriteNamedSafetensors(tensors, folder + "/" + kAdapterWeightsFile);
  WriteFileAtomically(folder + "/" + kAdapterConfigFile,
                      AdapterConfigJson(options, report, family, task, base_model));
}

AdapterIdentity ReadAdapterIdentity(const std::string& folder) {
  const std::string path = folder + "/" + kAdapterConfigFile;
  const Json json = ReadAdapterJson(path);
  AdapterIdentity identity;
  const auto text = [&](const char* name) {
    const auto found = json.find(name);
    return found != json.end() && found->is_string() ? found->get<std::string>() : "";
  };
  identity.base_model = text("base_model_name_or_path");
  identity.task_type = text("task_type");
  return identity;
}

LoraOptions ReadAdapterConfig(const std::string& folder, LoraOptions base) {
  const std::string path = folder + "/" + kAdapterConfigFile;
  Json json = ReadAdapterJson(path);
  const auto field = [&](const char* name) -> const Json& {
    if (!json.contains(name)) throw std::runtime_error(path + ": no field '" + name + "'");
    return json[name];
  };
  const auto number = [&](const char* name) {
    const Json& value = field(name);
    if (!value.is_number()) throw std::runtime_error(path + ": " + name + " must be a number");
    return value.get<double>();
  };
  base.r = static_cast<int64_t>(number("r"));
  if (base.r < 1 || static_cast<double>(base.r) != number("r")) {
    throw std::runtime_error(path + ": r must be a positive integer");
  }
  base.alpha = number("lora_alpha");
  base.use_rslora = json.value("use_rslora", false);
  base.target_modules.clear();
  const Json& targets = field("target_modules");
  if (targets.is_string()) {
    base.target_modules.push_back(targets.get<std::string>());
  } else if (targets.is_array()) {
    for (const Json& target : targets) {
      if (!target.is_string()) throw std::runtime_error(path + ": target_modules: not a string");
      base.target_modules.push_back(target.get<std::string>());
    }
  } else {
    throw std::runtime_error(path + ": target_modules must be a list of module names");
  }
  return base;
}

void LoadPeftAdapterWeights(torch::nn::Module& model, const std::string& folder) {
  const std::string path = folder + "/" + kAdapterWeightsFile;
  const std::unique_ptr<io::SafetensorsFile> file = io::SafetensorsFile::Open(path);
  torch::NoGradGuard no_grad;
  for (auto& [name, parameter] : NamedTrainableParameters(model)) {
    const io::SafetensorsEntry* entry = file->Find(kPeftPrefix + name);
    if (entry == nullptr) {
      throw std::runtime_error(path + ": no tensor '" + kPeftPrefix + name +
                               "', which this model's adapter needs");
    }
    if (entry->shape != parameter.sizes().vec()) {
      throw std::runtime_error(path + ": tensor '" + entry->name + "' has shape " +
                               ShapeText(entry->shape) + ", the model expects " +
                               ShapeText(parameter.sizes().vec()));
    }
    torch::Tensor host = torch::empty(parameter.sizes(), torch::kFloat32);
    file->ReadAsFloat32(*entry, host.data_ptr<float>());
    parameter.copy_(host);
  }
}

}  // namespace ft::adapters
