#include "worker/models/bloom_hf_config.h"

#include <nlohmann/json.hpp>

#include "worker/models/hf_export_config.h"

namespace ft::models {

namespace {

nlohmann::ordered_json BloomConfigFields(const BloomConfig& config, const char* architecture) {
  nlohmann::ordered_json json;
  json["architectures"] = {architecture};
  json["model_type"] = "bloom";
  json["vocab_size"] = config.vocab_size;
  json["hidden_size"] = config.hidden_size;
  json["n_layer"] = config.n_layer;
  json["n_head"] = config.n_head;
  json["layer_norm_epsilon"] = config.layer_norm_epsilon;
  json["initializer_range"] = config.initializer_range;
  json["bos_token_id"] = config.bos_token_id;
  json["eos_token_id"] = config.eos_token_id;
  json["pad_token_id"] = config.pad_token_id;
  json["apply_residual_connection_post_layernorm"] = false;
  json["hidden_dropout"] = 0.0;
  json["attention_dropout"] = 0.0;
  json["pretraining_tp"] = 1;
  json["slow_but_exact"] = false;
  json["use_cache"] = true;
  json["torch_dtype"] = "float32";
  return json;
}

}  // namespace

std::string BloomSequenceClassificationConfigJson(const BloomConfig& config,
                                                  const std::vector<std::string>& label_names) {
  nlohmann::ordered_json json = BloomConfigFields(config, "BloomForSequenceClassification");
  json["problem_type"] = "single_label_classification";
  SetLabelMaps(json, label_names);
  return json.dump(2) + "\n";
}

std::string BloomCausalLmConfigJson(const BloomConfig& config) {
  nlohmann::ordered_json json = BloomConfigFields(config, "BloomForCausalLM");
  json["tie_word_embeddings"] = true;
  return json.dump(2) + "\n";
}

}  // namespace ft::models
