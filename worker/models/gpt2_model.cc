#include "models/gpt2_model.h"

#include <torch/utils.h>

#include <cmath>

#include "models/hf_export_config.h"

namespace ft::models {
Gpt2AttentionImpl::Gpt2AttentionImpl(const TransformerConfig& config, int64_t layer_index)
    : num_heads_(config.num_heads), head_dim_(config.head_dim) {
  scale_ = config.scale_attn_weights ? 1.0 / std::sqrt(static_cast<double>(head_dim_)) : 1.0;
  if (config.scale_attn_by_inverse_layer_idx) scale_ /= static_cast<double>(layer_index + 1);
  c_attn_ = register_module("c_attn", Conv1D(config.hidden_size, 3 * config.hidden_size));
  c_proj_ = register_module("c_proj", Conv1D(config.hidden_size, config.hidden_size));
}

torch::Tensor Gpt2AttentionImpl::forward(const torch::Tensor& hidden,
                                         const torch::Tensor& blocked) {
  const int64_t batch = hidden.size(0);
  const int64_t seq = hidden.size(1);
  // c_attn's output is [query | key | value], each hidden wide.
  const std::vector<torch::Tensor> parts = c_attn_(hidden).chunk(3, -1);
  const auto heads = [&](const torch::Tensor& x) {
    return x.view({batch, seq, num_heads_, head_dim_}).transpose(1, 2);
  };
  return c_proj_(
      ScaledDotProductAttention(heads(parts[0]), heads(parts[1]), heads(parts[2]), blocked, scale_));
}

Gpt2MlpImpl::Gpt2MlpImpl(const TransformerConfig& config) : activation_(config.activation) {
  c_fc_ = register_module("c_fc", Conv1D(config.hidden_size, config.intermediate_size));
  c_proj_ = register_module("c_proj", Conv1D(config.intermediate_size, config.hidden_size));
}

torch::Tensor Gpt2MlpImpl::forward(const torch::Tensor& hidden) {
  return c_proj_(Activate(activation_, c_fc_(hidden)));
}

Gpt2BlockImpl::Gpt2BlockImpl(const TransformerConfig& config, int64_t layer_index) {
  ln_1_ = register_module("ln_1", MakeLayerNorm(config.hidden_size, config.norm_eps));
  attn_ = register_module("attn", Gpt2Attention(config, layer_index));
  ln_2_ = register_module("ln_2", MakeLayerNorm(config.hidden_size, config.norm_eps));
  mlp_ = register_module("mlp", Gpt2Mlp(config));
}

torch::Tensor Gpt2BlockImpl::BlockForward(const torch::Tensor& hidden,
                                          const std::vector<torch::Tensor>& context) {
  const torch::Tensor attended = attn_(ln_1_(hidden), context[0]) + hidden;
  return mlp_(ln_2_(attended)) + attended;
}

Gpt2ModelImpl::Gpt2ModelImpl(const TransformerConfig& config) {
  wte_ = register_module("wte", torch::nn::Embedding(config.vocab_size, config.hidden_size));
  wpe_ = register_module("wpe", torch::nn::Embedding(config.max_positions, config.hidden_size));
  h_ = register_module("h", torch::nn::ModuleList());
  for (int64_t layer = 0; layer < config.num_layers; ++layer) h_->push_back(Gpt2Block(config, layer));
  ln_f_ = register_module("ln_f", MakeLayerNorm(config.hidden_size, config.norm_eps));
}

torch::Tensor Gpt2ModelImpl::forward(const torch::Tensor& input_ids,
                                     const torch::Tensor& attention_mask, bool checkpoint) {
  const int64_t seq = input_ids.size(1);
  TORCH_CHECK(seq <= wpe_->weight.size(0), "sequence of ", seq,
              " tokens is longer than GPT-2's n_positions ", wpe_->weight.size(0));
  const torch::Tensor positions = torch::arange(seq, input_ids.options().dtype(torch::kInt64));
  torch::Tensor hidden = wte_(input_ids) + wpe_(positions).unsqueeze(0);
  const std::vector<torch::Tensor> context = {AttentionBlockedMask(attention_mask, true)};
  const bool recompute = checkpoint && torch::GradMode::is_enabled();
  for (const auto& block : *h_) {
    hidden = RunBlock(*block->as<Gpt2BlockImpl>(), hidden, context, recompute);
  }
  return ln_f_(hidden);
}

Gpt2ForSequenceClassificationImpl::Gpt2ForSequenceClassificationImpl(const ModelConfig& config,
                                                                     int64_t num_labels)
    : config_(config), num_labels_(num_labels) {
  TORCH_CHECK(num_labels >= 1, "num_labels must be at least 1, got ", num_labels);
  transformer_ = register_module("transformer", Gpt2Model(config.transformer));
  score_ = register_module("score", MakeLinear(config.transformer.hidden_size, num_labels, false));
  InitializeHfWeights(*this, config.transformer.initializer_range);
}

torch::Tensor Gpt2ForSequenceClassificationImpl::forward(const torch::Tensor& input_ids,
                                                         const torch::Tensor& attention_mask) {
  return score_(
      PoolLastToken(transformer_(input_ids, attention_mask, checkpointing_), attention_mask));
}

std::string Gpt2ForSequenceClassificationImpl::HfConfigJson(
    const std::vector<std::string>& label_names) const {
  return ExportedConfigJson(config_, label_names);
}

}  // namespace ft::models
