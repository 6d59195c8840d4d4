#include "worker/models/gpt2_model.h"

#include <torch/utils.h>

#include <cmath>

#include "worker/models/block_dtype.h"
#include "worker/models/hf_export_config.h"

namespace ft::models {
Gpt2AttentionImpl::Gpt2AttentionImpl(const TransformerConfig& config, int64_t layer_index)
    : num_heads_(config.num_heads),
      head_dim_(config.head_dim),
      attention_dropout_(config.attention_dropout),
      output_dropout_(config.attention_output_dropout) {
  scale_ = config.scale_attn_weights ? 1.0 / std::sqrt(static_cast<double>(head_dim_)) : 1.0;
  if (config.scale_attn_by_inverse_layer_idx) scale_ /= static_cast<double>(layer_index + 1);
  c_attn_ = register_module("c_attn", Conv1D(config.hidden_size, 3 * config.hidden_size));
  c_proj_ = register_module("c_proj", Conv1D(config.hidden_size, config.hidden_size));
}

torch::Tensor Gpt2AttentionImpl::forward(const torch::Tensor& hidden,
                                         const torch::Tensor& blocked,
                                         const torch::Tensor& query_positions) {
  const int64_t batch = hidden.size(0);
  // c_attn's output is [query | key | value], each hidden wide.
  const std::vector<torch::Tensor> parts = c_attn_(hidden).chunk(3, -1);
  const auto heads = [&](const torch::Tensor& x) {
    return x.reshape({batch, -1, num_heads_, head_dim_}).transpose(1, 2);
  };
  const bool training = is_training();
  const double dropout = training ? attention_dropout_ : 0;
  const torch::Tensor attention =
      query_positions.defined()
          ? ScaledDotProductAttention(heads(TakePositions(parts[0], query_positions)),
                                      heads(parts[1]), heads(parts[2]),
                                      TakeQueryRows(blocked, query_positions), scale_, dropout)
          : ScaledDotProductAttention(heads(parts[0]), heads(parts[1]), heads(parts[2]), blocked,
                                      scale_, dropout);
  return Dropout(c_proj_(attention), output_dropout_, training);
}

torch::Tensor Gpt2AttentionImpl::ForwardCached(const torch::Tensor& hidden,
                                               const torch::Tensor& blocked, LayerKv& kv) {
  const int64_t batch = hidden.size(0);
  const std::vector<torch::Tensor> parts = c_attn_(hidden).chunk(3, -1);
  const auto heads = [&](const torch::Tensor& x) {
    return x.reshape({batch, -1, num_heads_, head_dim_}).transpose(1, 2);
  };
  auto [key, value] = kv.Append(heads(parts[1]), heads(parts[2]));
  return c_proj_(ScaledDotProductAttention(heads(parts[0]), key, value, blocked, scale_));
}

Gpt2MlpImpl::Gpt2MlpImpl(const TransformerConfig& config)
    : activation_(config.activation), output_dropout_(config.mlp_output_dropout) {
  c_fc_ = register_module("c_fc", Conv1D(config.hidden_size, config.intermediate_size));
  c_proj_ = register_module("c_proj", Conv1D(config.intermediate_size, config.hidden_size));
}

torch::Tensor Gpt2MlpImpl::forward(const torch::Tensor& hidden) {
  return Dropout(c_proj_(Activate(activation_, c_fc_(hidden))), output_dropout_, is_training());
}

Gpt2BlockImpl::Gpt2BlockImpl(const TransformerConfig& config, int64_t layer_index) {
  ln_1_ = register_module("ln_1", MakeLayerNorm(config.hidden_size, config.norm_eps));
  attn_ = register_module("attn", Gpt2Attention(config, layer_index));
  ln_2_ = register_module("ln_2", MakeLayerNorm(config.hidden_size, config.norm_eps));
  mlp_ = register_module("mlp", Gpt2Mlp(config));
}

torch::Tensor Gpt2BlockImpl::BlockForward(const torch::Tensor& hidden,
                                          const std::vector<torch::Tensor>& context) {
  const torch::Tensor positions = context.size() > 1 ? context[1] : torch::Tensor();
  const torch::Tensor residual = positions.defined() ? TakePositions(hidden, positions) : hidden;
  const torch::Tensor attended = attn_(ln_1_(hidden), context[0], positions) + residual;
  return mlp_(ln_2_(attended)) + attended;
}

torch::Tensor Gpt2BlockImpl::ForwardCached(const torch::Tensor& hidden,
                                           const torch::Tensor& blocked, LayerKv& kv) {
  const torch::Tensor attended = attn_->ForwardCached(ln_1_(hidden), blocked, kv) + hidden;
  return mlp_(ln_2_(attended)) + attended;
}

Gpt2ModelImpl::Gpt2ModelImpl(const TransformerConfig& config)
    : embedding_dropout_(config.embedding_dropout) {
  wte_ = register_module("wte", torch::nn::Embedding(config.vocab_size, config.hidden_size));
  wpe_ = register_module("wpe", torch::nn::Embedding(config.max_positions, config.hidden_size));
  h_ = register_module("h", torch::nn::ModuleList());
  for (int64_t layer = 0; layer < config.num_layers; ++layer) {
    h_->push_back(Settled(Gpt2Block(config, layer)));
  }
  ln_f_ = register_module("ln_f", MakeLayerNorm(config.hidden_size, config.norm_eps));
}

torch::Tensor Gpt2ModelImpl::forward(const torch::Tensor& input_ids,
                                     const torch::Tensor& attention_mask, bool checkpoint,
                                     const torch::Tensor& output_positions, RowLayout rows) {
  const int64_t seq = input_ids.size(1);
  TORCH_CHECK(seq <= wpe_->weight.size(0), "sequence of ", seq,
              " tokens is longer than GPT-2's n_positions ", wpe_->weight.size(0));
  // Packed rows: each example's positions start at 0, as they would alone.
  torch::Tensor hidden =
      rows == RowLayout::kPacked
          ? wte_(input_ids) + wpe_(PositionsInExamples(attention_mask))
          : wte_(input_ids) +
                wpe_(torch::arange(seq, input_ids.options().dtype(torch::kInt64))).unsqueeze(0);
  hidden = Dropout(hidden, embedding_dropout_, is_training());
  const bool recompute = checkpoint && torch::GradMode::is_enabled();
  const torch::Tensor blocked = AttentionBlockedMask(attention_mask, /*causal=*/true, 0, rows);
  return ln_f_(RunBlocks(h_, hidden, {blocked}, recompute, output_positions));
}

torch::Tensor Gpt2ModelImpl::ForwardCached(const torch::Tensor& input_ids, KvCache& cache) {
  const int64_t past = cache.length();
  const int64_t seq = input_ids.size(1);
  TORCH_CHECK(past + seq <= wpe_->weight.size(0), "sequence of ", past + seq,
              " tokens is longer than GPT-2's n_positions ", wpe_->weight.size(0));
  const torch::Tensor positions =
      torch::arange(past, past + seq, input_ids.options().dtype(torch::kInt64));
  torch::Tensor hidden = wte_(input_ids) + wpe_(positions).unsqueeze(0);
  const torch::Tensor blocked = CachedBlockedMask(past, seq, /*sliding_window=*/0,
                                                  input_ids.device());
  for (std::size_t layer = 0; layer < h_->size(); ++layer) {
    hidden = h_[layer]->as<Gpt2BlockImpl>()->ForwardCached(hidden, blocked, cache.layer(layer));
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
  const torch::Tensor last = LastTokenPositions(attention_mask);
  return score_(transformer_(input_ids, attention_mask, checkpointing_, last).squeeze(1));
}

std::string Gpt2ForSequenceClassificationImpl::HfConfigJson(
    const std::vector<std::string>& label_names) const {
  return ExportedConfigJson(config_, label_names);
}

}  // namespace ft::models
