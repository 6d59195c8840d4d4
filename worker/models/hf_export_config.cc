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
  static constexpr std::pair<const char*, const char*> kClasses[] = {
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

namespace {

nlohmann::ordered_json CheckpointConfig(const ModelConfig& config) {
  nlohmann::ordered_json json = nlohmann::ordered_json::parse(config.config_json, nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    throw std::runtime_error("the model's config.json is not a JSON object");
  }
  return json;
}

}  // namespace

std::string ExportedConfigJson(const ModelConfig& config,
                               const std::vector<std::string>& label_names) {
  nlohmann::ordered_json json = CheckpointConfig(config);
  json["architectures"] = {SequenceClassificationArchitecture(config)};
  json["model_type"] = config.model_type;
  json["torch_dtype"] = "float32";  // transformers v4's name
  if (json.contains("dtype")) json["dtype"] = "float32";  // v5's
  json["problem_type"] = "single_label_classification";
  SetLabelMaps(json, label_names);
  return json.dump(2) + "\n";
}

std::string CausalLmArchitecture(const ModelConfig& config) {
  static constexpr std::pair<const char*, const char*> kClasses[] = {
      {"bloom", "BloomForCausalLM"}, {"gpt2", "GPT2LMHeadModel"},
      {"llama", "LlamaForCausalLM"}, {"mistral", "MistralForCausalLM"},
      {"qwen2", "Qwen2ForCausalLM"},
  };
  for (const auto& [type, name] : kClasses) {
    if (config.model_type == type) return name;
  }
  throw std::runtime_error("model_type '" + config.model_type +
                           "' is not a decoder: it has no causal language model class");
}

std::string ExportedCausalLmConfigJson(const ModelConfig& config) {
  nlohmann::ordered_json json = CheckpointConfig(config);
  json["architectures"] = {CausalLmArchitecture(config)};
  json["model_type"] = config.model_type;
  json["torch_dtype"] = "float32";
  if (json.contains("dtype")) json["dtype"] = "float32";
  for (const char* field : {"num_labels", "id2label", "label2id", "problem_type"}) {
    json.erase(field);
  }
  json["tie_word_embeddings"] = config.transformer.tie_word_embeddings;
  return json.dump(2) + "\n";
}

std::string GenerationConfigJson(const std::string& exported_config_json) {
  const nlohmann::ordered_json config = nlohmann::ordered_json::parse(exported_config_json);
  nlohmann::ordered_json json = nlohmann::ordered_json::object();
  for (const char* field : {"bos_token_id", "eos_token_id", "pad_token_id"}) {
    const auto it = config.find(field);
    if (it != config.end() && !it->is_null()) json[field] = *it;
  }
  json["do_sample"] = false;
  return json.dump(2) + "\n";
}

}  // namespace ft::models
