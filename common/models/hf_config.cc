#include "common/models/hf_config.h"

#include <nlohmann/json.hpp>

#include "common/models/config_reader.h"
#include "common/models/model_folder.h"

namespace ft::models {
namespace {

using Json = nlohmann::json;

// Bounds against a config that would ask for absurd allocations.
constexpr int64_t kMaxWidth = 1 << 17;
constexpr int64_t kMaxLayers = 1024;
constexpr int64_t kMaxVocabSize = 1 << 24;
constexpr int64_t kMaxPositions = 1 << 20;

struct TypeEntry {
  const char* model_type;
  const char* architecture_prefix;  // "LlamaFor..." names the same family
  ModelFamily family;
};

constexpr TypeEntry kTypes[] = {
    {"bloom", "Bloom", ModelFamily::kBloom},
    {"gpt2", "GPT2", ModelFamily::kGpt2},
    {"bert", "Bert", ModelFamily::kBert},
    {"roberta", "Roberta", ModelFamily::kRoberta},
    {"distilbert", "DistilBert", ModelFamily::kDistilBert},
    {"llama", "Llama", ModelFamily::kLlama},
    {"mistral", "Mistral", ModelFamily::kLlama},
    {"qwen2", "Qwen2", ModelFamily::kLlama},
};

std::string Quoted(const std::string& text) { return "'" + text + "'"; }

// The model_type: config.json's, else derived from architectures[0] ("MistralForCausalLM").
std::string ModelType(const ConfigReader& reader) {
  const Json& json = reader.json();
  const auto type = json.find("model_type");
  if (type != json.end() && !type->is_null()) {
    if (!type->is_string()) reader.Fail("model_type: expected a string, got " + type->dump());
    return type->get<std::string>();
  }
  const auto architectures = json.find("architectures");
  if (architectures != json.end() && architectures->is_array() && !architectures->empty() &&
      (*architectures)[0].is_string()) {
    const std::string name = (*architectures)[0].get<std::string>();
    for (const TypeEntry& entry : kTypes) {
      const std::string prefix = std::string(entry.architecture_prefix) + "For";
      if (name.compare(0, prefix.size(), prefix) == 0) return entry.model_type;
    }
    reader.Fail("architectures: " + Quoted(name) + " is not supported and there is no model_type; " +
                "supported model types: " + SupportedModelTypes());
  }
  reader.Fail("model_type: missing (and no architectures); supported: " + SupportedModelTypes());
}

void CheckVocabulary(const ConfigReader& reader, int64_t vocab_size) {
  if (vocab_size < kByteTokenizerVocabSize) {
    reader.Fail("vocab_size " + std::to_string(vocab_size) + " is smaller than the " +
                std::to_string(kByteTokenizerVocabSize) +
                " ids of the byte-level tokenizer (the only tokenizer implemented yet)");
  }
}

void CheckHeads(const ConfigReader& reader, const TransformerConfig& config, const char* field) {
  if (config.hidden_size % config.num_heads != 0) {
    reader.Fail("hidden size " + std::to_string(config.hidden_size) + " is not divisible by " +
                field + " " + std::to_string(config.num_heads));
  }
}

// Hugging Face's ACT2FN names that we implement.
std::string Activation(const ConfigReader& reader, const char* field, const std::string& fallback) {
  const std::string name = reader.String(field, fallback);
  for (const char* known : {"gelu", "gelu_new", "gelu_pytorch_tanh", "relu", "silu", "swish"}) {
    if (name == known) return name == "swish" ? "silu" : name;
  }
  reader.Fail(std::string(field) + ": " + Quoted(name) +
              " is not supported (gelu, gelu_new, gelu_pytorch_tanh, relu, silu)");
}

TransformerConfig ParseGpt2(const ConfigReader& reader) {
  TransformerConfig config;
  config.vocab_size = reader.Required({"vocab_size"}, 1, kMaxVocabSize);
  config.hidden_size = reader.Required({"n_embd", "hidden_size"}, 1, kMaxWidth);
  config.num_layers = reader.Required({"n_layer", "num_hidden_layers"}, 1, kMaxLayers);
  config.num_heads = reader.Required({"n_head", "num_attention_heads"}, 1, config.hidden_size);
  CheckHeads(reader, config, "n_head");
  config.num_kv_heads = config.num_heads;
  config.head_dim = config.hidden_size / config.num_heads;
  config.intermediate_size = reader.Optional({"n_inner"}, 4 * config.hidden_size, 1, kMaxWidth);
  config.max_positions = reader.Optional({"n_positions"}, 1024, 1, kMaxPositions);
  config.norm_eps = reader.Real("layer_norm_epsilon", 1e-5, 0, 1);
  config.activation = Activation(reader, "activation_function", "gelu_new");
  config.scale_attn_weights = reader.Boolean("scale_attn_weights", true);
  config.scale_attn_by_inverse_layer_idx =
      reader.Boolean("scale_attn_by_inverse_layer_idx", false);
  config.tie_word_embeddings = reader.Boolean("tie_word_embeddings", true);
  // GPT2Config's defaults. GPT-2's classifier reads the last state without dropout.
  config.embedding_dropout = reader.Rate("embd_pdrop", 0.1);
  config.attention_output_dropout = config.mlp_output_dropout = reader.Rate("resid_pdrop", 0.1);
  config.attention_dropout = reader.Rate("attn_pdrop", 0.1);
  return config;
}

TransformerConfig ParseBertLike(const ConfigReader& reader, int64_t default_positions) {
  TransformerConfig config;
  config.vocab_size = reader.Required({"vocab_size"}, 1, kMaxVocabSize);
  config.hidden_size = reader.Required({"hidden_size"}, 1, kMaxWidth);
  config.num_layers = reader.Required({"num_hidden_layers"}, 1, kMaxLayers);
  config.num_heads = reader.Required({"num_attention_heads"}, 1, config.hidden_size);
  CheckHeads(reader, config, "num_attention_heads");
  config.num_kv_heads = config.num_heads;
  config.head_dim = config.hidden_size / config.num_heads;
  config.intermediate_size = reader.Required({"intermediate_size"}, 1, kMaxWidth);
  config.max_positions =
      reader.Optional({"max_position_embeddings"}, default_positions, 1, kMaxPositions);
  config.type_vocab_size = reader.Optional({"type_vocab_size"}, 2, 1, 1 << 16);
  config.norm_eps = reader.Real("layer_norm_eps", 1e-12, 0, 1);
  config.activation = Activation(reader, "hidden_act", "gelu");
  const std::string positions = reader.String("position_embedding_type", "absolute");
  if (positions != "absolute") {
    reader.Fail("position_embedding_type: " + Quoted(positions) +
                " is not implemented (only \"absolute\")");
  }
  if (reader.Boolean("is_decoder", false)) reader.Fail("is_decoder: true is not supported");
  // BertConfig's and RobertaConfig's defaults; classifier_dropout null means hidden_dropout_prob.
  const double hidden = reader.Rate("hidden_dropout_prob", 0.1);
  config.embedding_dropout = config.attention_output_dropout = config.mlp_output_dropout = hidden;
  config.attention_dropout = reader.Rate("attention_probs_dropout_prob", 0.1);
  config.classifier_dropout = reader.Rate("classifier_dropout", hidden);
  return config;
}

TransformerConfig ParseDistilBert(const ConfigReader& reader) {
  TransformerConfig config;
  config.vocab_size = reader.Required({"vocab_size"}, 1, kMaxVocabSize);
  config.hidden_size = reader.Required({"dim", "hidden_size"}, 1, kMaxWidth);
  config.num_layers = reader.Required({"n_layers", "num_hidden_layers"}, 1, kMaxLayers);
  config.num_heads = reader.Required({"n_heads", "num_attention_heads"}, 1, config.hidden_size);
  CheckHeads(reader, config, "n_heads");
  config.num_kv_heads = config.num_heads;
  config.head_dim = config.hidden_size / config.num_heads;
  config.intermediate_size = reader.Required({"hidden_dim"}, 1, kMaxWidth);
  config.max_positions = reader.Optional({"max_position_embeddings"}, 512, 1, kMaxPositions);
  config.norm_eps = 1e-12;  // fixed in Hugging Face's DistilBERT
  config.activation = Activation(reader, "activation", "gelu");
  // DistilBertConfig's defaults; its attention output has no dropout of its own.
  config.embedding_dropout = config.mlp_output_dropout = reader.Rate("dropout", 0.1);
  config.attention_dropout = reader.Rate("attention_dropout", 0.1);
  config.classifier_dropout = reader.Rate("seq_classif_dropout", 0.2);
  return config;
}

// rope_theta (transformers v4) or rope_parameters {rope_theta, rope_type} (v5); only the
// default rotary embedding is implemented.
double RopeTheta(const ConfigReader& reader) {
  const Json& json = reader.json();
  double theta = reader.Real("rope_theta", 10000.0, 0, 1e12);
  for (const char* field : {"rope_parameters", "rope_scaling"}) {
    const auto it = json.find(field);
    if (it == json.end() || it->is_null()) continue;
    if (!it->is_object()) reader.Fail(std::string(field) + ": expected an object, got " + it->dump());
    for (const char* type_key : {"rope_type", "type"}) {
      const auto type = it->find(type_key);
      if (type == it->end() || type->is_null()) continue;
      if (!type->is_string() || type->get<std::string>() != "default") {
        reader.Fail(std::string(field) + "." + type_key + ": " + type->dump() +
                    " is not implemented (only \"default\" rotary embeddings)");
      }
    }
    const auto nested = it->find("rope_theta");
    if (nested != it->end() && !nested->is_null()) {
      if (!nested->is_number() || !(nested->get<double>() > 0)) {
        reader.Fail(std::string(field) + ".rope_theta: expected a positive number, got " +
                    nested->dump());
      }
      theta = nested->get<double>();
    }
  }
  return theta;
}

TransformerConfig ParseLlamaStyle(const ConfigReader& reader, const std::string& model_type) {
  TransformerConfig config;
  config.vocab_size = reader.Required({"vocab_size"}, 1, kMaxVocabSize);
  config.hidden_size = reader.Required({"hidden_size"}, 1, kMaxWidth);
  config.num_layers = reader.Required({"num_hidden_layers"}, 1, kMaxLayers);
  config.num_heads = reader.Required({"num_attention_heads"}, 1, kMaxWidth);
  config.num_kv_heads =
      reader.Optional({"num_key_value_heads"}, config.num_heads, 1, config.num_heads);
  if (config.num_heads % config.num_kv_heads != 0) {
    reader.Fail("num_attention_heads " + std::to_string(config.num_heads) +
                " is not a multiple of num_key_value_heads " + std::to_string(config.num_kv_heads));
  }
  const std::optional<int64_t> head_dim = reader.Integer({"head_dim"});
  if (head_dim) {
    if (*head_dim < 2 || *head_dim > kMaxWidth || *head_dim % 2 != 0) {
      reader.Fail("head_dim: must be an even number 2.." + std::to_string(kMaxWidth) + ", got " +
                  std::to_string(*head_dim));
    }
    config.head_dim = *head_dim;
  } else {
    CheckHeads(reader, config, "num_attention_heads");
    config.head_dim = config.hidden_size / config.num_heads;
    if (config.head_dim % 2 != 0) reader.Fail("the head size must be even for rotary embeddings");
  }
  config.intermediate_size = reader.Required({"intermediate_size"}, 1, kMaxWidth * 8);
  config.max_positions = reader.Optional({"max_position_embeddings"}, 2048, 1, kMaxPositions);
  config.norm_eps = reader.Real("rms_norm_eps", 1e-6, 0, 1);
  config.activation = Activation(reader, "hidden_act", "silu");
  config.rope_theta = RopeTheta(reader);
  config.tie_word_embeddings = reader.Boolean("tie_word_embeddings", false);
  config.attention_dropout = reader.Rate("attention_dropout", 0.0);
  if (model_type == "qwen2") {
    config.qkv_bias = true;
    if (reader.Boolean("use_sliding_window", false)) {
      reader.Fail("use_sliding_window: true is not implemented for qwen2");
    }
  } else if (model_type == "llama") {
    config.qkv_bias = config.output_bias = reader.Boolean("attention_bias", false);
    config.mlp_bias = reader.Boolean("mlp_bias", false);
  } else {  // mistral
    config.sliding_window = reader.Optional({"sliding_window"}, 0, 1, kMaxPositions);
  }
  return config;
}

}  // namespace

std::string_view FamilyName(ModelFamily family) {
  switch (family) {
    case ModelFamily::kBloom: return "bloom";
    case ModelFamily::kGpt2: return "gpt2";
    case ModelFamily::kBert: return "bert";
    case ModelFamily::kRoberta: return "roberta";
    case ModelFamily::kDistilBert: return "distilbert";
    case ModelFamily::kLlama: return "llama";
    case ModelFamily::kTorchScript: return "torchscript";
  }
  return "unknown";
}

ModelConfig ScratchModelConfig(const BloomConfig& bloom) {
  ModelConfig config;
  config.bloom = bloom;
  return config;
}

std::string SupportedModelTypes() {
  std::string names;
  for (const TypeEntry& entry : kTypes) names += (names.empty() ? "" : ", ") + std::string(entry.model_type);
  return names;
}

ModelConfig ParseModelConfigJson(const std::string& text, const std::string& file) {
  Json json;
  try {
    json = Json::parse(text);
  } catch (const Json::exception& error) {  // parse_error, or out_of_range for 1e999
    throw ModelFolderError(false, file + ": not valid JSON: " + error.what());
  }
  const ConfigReader reader(json, file, "the configuration");
  if (!json.is_object()) reader.Fail("expected a JSON object");
  ModelConfig config;
  config.model_type = ModelType(reader);
  config.config_json = text;
  const TypeEntry* entry = nullptr;
  for (const TypeEntry& candidate : kTypes) {
    if (config.model_type == candidate.model_type) entry = &candidate;
  }
  if (entry == nullptr) {
    reader.Fail("model_type: " + Quoted(config.model_type) +
                " is not supported; supported: " + SupportedModelTypes());
  }
  config.family = entry->family;
  switch (config.family) {
    case ModelFamily::kBloom:
      config.bloom = ParseBloomConfigJson(text, file);
      return config;
    case ModelFamily::kGpt2: config.transformer = ParseGpt2(reader); break;
    case ModelFamily::kBert: config.transformer = ParseBertLike(reader, 512); break;
    case ModelFamily::kRoberta: config.transformer = ParseBertLike(reader, 514); break;
    case ModelFamily::kDistilBert: config.transformer = ParseDistilBert(reader); break;
    case ModelFamily::kLlama:
      config.transformer = ParseLlamaStyle(reader, config.model_type);
      break;
    case ModelFamily::kTorchScript: break;
  }
  config.transformer.initializer_range = reader.Real("initializer_range", 0.02, 0, 10);
  config.transformer.pad_token_id = reader.Optional({"pad_token_id"}, -1, -1, kMaxVocabSize);
  if (config.family == ModelFamily::kRoberta && config.transformer.pad_token_id < 0) {
    config.transformer.pad_token_id = 1;  // RobertaConfig's default; position ids start after it
  }
  if (config.family == ModelFamily::kRoberta &&
      config.transformer.max_positions <= config.transformer.pad_token_id + 1) {
    reader.Fail("max_position_embeddings: must exceed pad_token_id + 1 (RoBERTa's positions "
                "start there)");
  }
  CheckVocabulary(reader, config.transformer.vocab_size);
  return config;
}

}  // namespace ft::models
