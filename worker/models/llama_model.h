// Native LibTorch implementation of Hugging Face's LlamaForSequenceClassification, which with
// the configuration's switches is also Mistral's (sliding-window attention) and Qwen2's (biases
// on q/k/v): RMSNorm before attention and MLP, rotary position embeddings ("default" rope_type),
// grouped-query attention, SwiGLU MLP, last-token pooling, "score" head without bias. Parameter
// names equal Hugging Face's ("model.layers.0.self_attn.q_proj.weight", "score.weight").
// Include only from Torch translation units.
#pragma once

#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/embedding.h>

#include "common/models/model_config.h"
#include "worker/adapters/adaptable_linear.h"
#include "worker/models/activation_checkpoint.h"
#include "worker/models/kv_cache.h"
#include "worker/models/trainable_model.h"
#include "worker/models/transformer_parts.h"

namespace ft::models {

class LlamaAttentionImpl : public torch::nn::Module {
 public:
  explicit LlamaAttentionImpl(const TransformerConfig& config);
  // cos, sin: [1, seq, head_dim]; blocked: AttentionBlockedMask. Returns [batch, seq, hidden];
  // with query_positions ([batch] int64) only those queries are computed: [batch, 1, hidden].
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& cos,
                        const torch::Tensor& sin, const torch::Tensor& blocked,
                        const torch::Tensor& query_positions = {});
  // Incremental decoding: hidden [batch, new, hidden] of the tokens after those in `kv`; cos,
  // sin [1, new, head_dim] of their positions; blocked [1, 1, new, cached + new]. Appends their
  // rotated keys and their values to `kv`.
  torch::Tensor ForwardCached(const torch::Tensor& hidden, const torch::Tensor& cos,
                              const torch::Tensor& sin, const torch::Tensor& blocked, LayerKv& kv);

 private:
  // o_proj(attention) for query [batch, heads, queries, dim], key and value [batch, kv_heads,
  // keys, dim] (repeated here for grouped-query attention).
  torch::Tensor Attend(const torch::Tensor& query, torch::Tensor key, torch::Tensor value,
                       const torch::Tensor& blocked);

  int64_t num_heads_;
  int64_t num_kv_heads_;
  int64_t head_dim_;
  double attention_dropout_;  // on the probabilities, training only
  adapters::AdaptableLinear q_proj_{nullptr};
  adapters::AdaptableLinear k_proj_{nullptr};
  adapters::AdaptableLinear v_proj_{nullptr};
  adapters::AdaptableLinear o_proj_{nullptr};
};
TORCH_MODULE(LlamaAttention);

class LlamaMlpImpl : public torch::nn::Module {
 public:
  explicit LlamaMlpImpl(const TransformerConfig& config);
  torch::Tensor forward(const torch::Tensor& hidden);

 private:
  std::string activation_;
  adapters::AdaptableLinear gate_proj_{nullptr};
  adapters::AdaptableLinear up_proj_{nullptr};
  adapters::AdaptableLinear down_proj_{nullptr};
};
TORCH_MODULE(LlamaMlp);

class LlamaDecoderLayerImpl : public torch::nn::Module, public CheckpointableBlock {
 public:
  explicit LlamaDecoderLayerImpl(const TransformerConfig& config);
  // context: {cos, sin, blocked} or {cos, sin, blocked, output_positions} (see RunBlocks).
  torch::Tensor BlockForward(const torch::Tensor& hidden,
                             const std::vector<torch::Tensor>& context) override;
  // The layer for the tokens after those in `kv` (LlamaAttentionImpl::ForwardCached).
  torch::Tensor ForwardCached(const torch::Tensor& hidden, const torch::Tensor& cos,
                              const torch::Tensor& sin, const torch::Tensor& blocked, LayerKv& kv);

 private:
  LlamaAttention self_attn_{nullptr};
  LlamaMlp mlp_{nullptr};
  RmsNorm input_layernorm_{nullptr};
  RmsNorm post_attention_layernorm_{nullptr};
};
TORCH_MODULE(LlamaDecoderLayer);

class LlamaModelImpl : public torch::nn::Module {
 public:
  explicit LlamaModelImpl(const TransformerConfig& config);
  // Last hidden states [batch, seq, hidden] after the final norm; with output_positions only
  // those, [batch, 1, hidden].
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                        bool checkpoint, const torch::Tensor& output_positions = {},
                        RowLayout rows = RowLayout::kOneExample);
  // Incremental decoding: the last hidden states [batch, new, hidden] of input_ids [batch, new]
  // (no padding), the tokens after those in `cache`, whose keys and values it appends. Rotary
  // positions continue from the cached length; the sliding window counts the cached keys.
  torch::Tensor ForwardCached(const torch::Tensor& input_ids, KvCache& cache);
  // The token embedding, which the LM head shares when tie_word_embeddings says so.
  const torch::nn::Embedding& embed_tokens() const { return embed_tokens_; }

 private:
  TransformerConfig config_;
  torch::nn::Embedding embed_tokens_{nullptr};
  torch::nn::ModuleList layers_{nullptr};
  RmsNorm norm_{nullptr};
};
TORCH_MODULE(LlamaModel);

class LlamaForSequenceClassificationImpl : public TrainableModelImpl {
 public:
  LlamaForSequenceClassificationImpl(const ModelConfig& config, int64_t num_labels);

  torch::Tensor forward(const torch::Tensor& input_ids,
                        const torch::Tensor& attention_mask) override;
  int64_t num_labels() const override { return num_labels_; }
  void set_activation_checkpointing(bool on) override { checkpointing_ = on; }
  std::string BaseModelPrefix() const override { return "model."; }
  std::vector<std::string> HeadParameterNames() const override { return {"score.weight"}; }
  std::string HfConfigJson(const std::vector<std::string>& label_names) const override;

 private:
  ModelConfig config_;
  int64_t num_labels_;
  bool checkpointing_ = false;
  LlamaModel model_{nullptr};
  adapters::AdaptableLinear score_{nullptr};
};
TORCH_MODULE(LlamaForSequenceClassification);

// The rotary tables cos, sin [1, seq, head_dim] for positions 0..seq-1, in float32, as
// Hugging Face's default rotary embedding computes them.
std::pair<torch::Tensor, torch::Tensor> RotaryTables(int64_t seq, int64_t head_dim, double theta,
                                                     const torch::Device& device);

}  // namespace ft::models
