#include "worker/models/hf_export_config.h"

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace ft::models {

void SetLabelMaps(nlohmann::ordered_json& json, const std::vector<std::string>& label_names) {
  nlohmann::ordered_json id2label = nlohmann::ordered_json::object();
  nlohmann::ordered_json label2id = nlohmann::ordered_json::object();
  for (std::size_t id = 0; id < label_names.size(); ++id) {
    id2label[std::to_string(id)] = label_names[id];
    label2id[label_names[id]] = id;
  }
  json["num_labels"] = label_names.size();
  json["id2label"] = id2label;
  json["label2id"] = label2id;
}

std::string SequenceClassificationArchitecture(const ModelConfig& config) {
  constexpr std::pair<const char*, const char*> kClasses[] = {
      {"bloom", "Bloom"},   {"gpt2", "GPT2"},       {"bert", "Bert"},
      {"roberta", "Roberta"}, {"distilbert", "DistilBert"}, {"llama", "Llama"},
      {"mistral", "Mistral"}, {"qwen2", "Qwen2"},
  };
  for (const auto& [type, prefix] : kClasses) {
    if (config.model_type == type) return std::string(prefix) + "ForSequenceClassification";
  }
  throw std::runtime_error("no sequence classification class for model_type '" +
                           config.model_type + "'");
}

std::string ExportedConfigJson(const ModelConfig& config,
                               const std::vector<std::string>& label_names) {
  nlohmann::ordered_json json = nlohmann::ordered_json::parse(config.config_json, nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    throw std::runtime_error("the model's config.json is not a JSON object");
  }
  json["architectures"] = {SequenceClassificationArchitecture(config)};
  json["model_type"] = config.model_type;
  json["torch_dtype"] = "float32";  // transformers v4's name
  if (json.contains("dtype")) json["dtype"] = "float32";  // v5's
  json["problem_type"] = "single_label_classification";
  SetLabelMaps(json, label_names);
  return json.dump(2) + "\n";
}

}  // namespace ft::models
