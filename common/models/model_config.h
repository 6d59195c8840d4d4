// What a job's model is, family-neutral: the Hugging Face family and the fields of its
// config.json that shape the network, or a TorchScript file. Standard library only: ftd checks a
// model when a job is submitted, the worker builds the network from it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/models/model_catalog.h"

namespace ft::models {

enum class ModelFamily {
  kBloom,        // BloomForSequenceClassification
  kGpt2,         // GPT2ForSequenceClassification
  kBert,         // BertForSequenceClassification
  kRoberta,      // RobertaForSequenceClassification
  kDistilBert,   // DistilBertForSequenceClassification
  kLlama,        // Llama/Mistral/Qwen2ForSequenceClassification (model_type tells which)
  kTorchScript,  // a scripted module whose forward(input_ids, attention_mask) returns logits
};

// "bloom", "gpt2", "bert", "roberta", "distilbert", "llama", "torchscript".
std::string_view FamilyName(ModelFamily family);

// The shaping fields of the non-BLOOM Hugging Face configurations under one set of names
// (GPT-2's n_embd is hidden_size here, DistilBERT's dim too, ...).
struct TransformerConfig {
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t num_layers = 0;
  int64_t num_heads = 0;
  int64_t num_kv_heads = 0;       // grouped-query attention (Llama-style); num_heads elsewhere
  int64_t head_dim = 0;
  int64_t intermediate_size = 0;  // the MLP's inner width
  int64_t max_positions = 0;      // rows of a learned position table (GPT-2, BERT-likes)
  int64_t type_vocab_size = 0;    // BERT, RoBERTa
  double norm_eps = 1e-5;
  double initializer_range = 0.02;
  double rope_theta = 10000.0;    // Llama-style
  std::string activation;         // "gelu", "gelu_new", "gelu_pytorch_tanh", "relu", "silu"
  bool qkv_bias = false;          // Llama-style: q/k/v projections have biases (Qwen2: always)
  bool output_bias = false;       // Llama-style: o_proj has a bias (Llama's attention_bias)
  bool mlp_bias = false;          // Llama-style
  int64_t sliding_window = 0;     // Mistral: keys at most this far back; 0: none
  bool scale_attn_weights = true;                // GPT-2
  bool scale_attn_by_inverse_layer_idx = false;  // GPT-2
  int64_t pad_token_id = -1;      // -1: none (pooling uses the attention mask anyway)
  // A causal LM's output layer is the input embedding (GPT-2: always; Llama-style: the config's
  // tie_word_embeddings, false by default as in transformers).
  bool tie_word_embeddings = false;
  // Dropout while training, at the places and with the config.json rates of transformers
  // (0: none): on the embeddings' output, on the attention branch's and the feed-forward branch's
  // output before each residual add, on the attention probabilities, and on the classifier's
  // input. Each family's fields: hf_config.cc.
  double embedding_dropout = 0;
  double attention_output_dropout = 0;
  double mlp_output_dropout = 0;
  double attention_dropout = 0;
  double classifier_dropout = 0;

  bool HasDropout() const {
    return embedding_dropout > 0 || attention_output_dropout > 0 || mlp_output_dropout > 0 ||
           attention_dropout > 0 || classifier_dropout > 0;
  }
};

struct ModelConfig {
  ModelFamily family = ModelFamily::kBloom;
  std::string model_type = "bloom";  // config.json's ("mistral", "qwen2", ...)
  BloomConfig bloom;                 // family kBloom
  TransformerConfig transformer;     // the other Hugging Face families
  std::string source;       // the model folder or .pt file; empty for scratch:NAME
  std::string config_json;  // the folder's config.json (an export keeps its other fields)
};

// A built-in BLOOM architecture as a ModelConfig.
ModelConfig ScratchModelConfig(const BloomConfig& bloom);

}  // namespace ft::models
