#include "worker/models/llama_model.h"

#include <torch/utils.h>

#include <cmath>

#include "worker/models/block_dtype.h"
#include "worker/models/hf_export_config.h"

namespace ft::models {
namespace {

// [..., d] -> [-x2, x1] of its two halves.
torch::Tensor RotateHalf(const torch::Tensor& x) {
  const int64_t half = x.size(-1) / 2;
  return torch::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
}

}  // namespace

std::pair<torch::Tensor, torch::Tensor> RotaryTables(int64_t seq, int64_t head_dim, double theta,
                                                     const torch::Device& device) {
  const auto options = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  const torch::Tensor exponents =
      torch::arange(0, head_dim, 2, torch::TensorOptions().dtype(torch::kInt64).device(device))
          .to(torch::kFloat32) /
      static_cast<double>(head_dim);
  const torch::Tensor inverse_frequencies = 1.0 / torch::pow(theta, exponents);
  const torch::Tensor positions = torch::arange(seq, options);
  const torch::Tensor frequencies = positions.view({seq, 1}) * inverse_frequencies.view({1, -1});
  const torch::Tensor angles = torch::cat({frequencies, frequencies}, -1).unsqueeze(0);
  return {angles.cos(), angles.sin()};
}

LlamaAttentionImpl::LlamaAttentionImpl(const TransformerConfig& config)
    : num_heads_(config.num_heads),
      num_kv_heads_(config.num_kv_heads),
      head_dim_(config.head_dim),
      attention_dropout_(config.attention_dropout) {
  q_proj_ = register_module(
      "q_proj", MakeLinear(config.hidden_size, num_heads_ * head_dim_, config.qkv_bias));
  k_proj_ = register_module(
      "k_proj", MakeLinear(config.hidden_size, num_kv_heads_ * head_dim_, config.qkv_bias));
  v_proj_ = register_module(
      "v_proj", MakeLinear(config.hidden_size, num_kv_heads_ * head_dim_, config.qkv_bias));
  o_proj_ = register_module(
      "o_proj", MakeLinear(num_heads_ * head_dim_, config.hidden_size, config.output_bias));
}

torch::Tensor LlamaAttentionImpl::forward(const torch::Tensor& hidden, const torch::Tensor& cos,
                                          const torch::Tensor& sin, const torch::Tensor& blocked,
                                          const torch::Tensor& query_positions) {
  const int64_t batch = hidden.size(0);
  const int64_t seq = hidden.size(1);
  const bool all_queries = !query_positions.defined();
  const torch::Tensor query_input = all_queries ? hidden : TakePositions(hidden, query_positions);
  torch::Tensor query =
      q_proj_(query_input).view({batch, -1, num_heads_, head_dim_}).transpose(1, 2);
  torch::Tensor key = k_proj_(hidden).view({batch, seq, num_kv_heads_, head_dim_}).transpose(1, 2);
  torch::Tensor value =
      v_proj_(hidden).view({batch, seq, num_kv_heads_, head_dim_}).transpose(1, 2);
  const torch::Tensor c = cos.unsqueeze(1).to(query.scalar_type());  // [1, 1, seq, dim]
  const torch::Tensor s = sin.unsqueeze(1).to(query.scalar_type());
  // The queries' own rotations: every position's, or each row's one position.
  const auto at_queries = [&](const torch::Tensor& table) {
    return all_queries ? table
                       : TakePositions(table.squeeze(1).expand({batch, seq, head_dim_}),
                                       query_positions)
                             .unsqueeze(1);  // [batch, 1, 1, dim]
  };
  query = query * at_queries(c) + RotateHalf(query) * at_queries(s);
  key = key * c + RotateHalf(key) * s;
  return Attend(query, key, value, all_queries ? blocked : TakeQueryRows(blocked, query_positions));
}

torch::Tensor LlamaAttentionImpl::ForwardCached(const torch::Tensor& hidden,
                                                const torch::Tensor& cos, const torch::Tensor& sin,
                                                const torch::Tensor& blocked, LayerKv& kv) {
  const int64_t batch = hidden.size(0);
  const int64_t seq = hidden.size(1);
  torch::Tensor query = q_proj_(hidden).view({batch, seq, num_heads_, head_dim_}).transpose(1, 2);
  torch::Tensor key = k_proj_(hidden).view({batch, seq, num_kv_heads_, head_dim_}).transpose(1, 2);
  const torch::Tensor value =
      v_proj_(hidden).view({batch, seq, num_kv_heads_, head_dim_}).transpose(1, 2);
  const torch::Tensor c = cos.unsqueeze(1).to(query.scalar_type());  // [1, 1, new, dim]
  const torch::Tensor s = sin.unsqueeze(1).to(query.scalar_type());
  query = query * c + RotateHalf(query) * s;
  key = key * c + RotateHalf(key) * s;
  auto [all_keys, all_values] = kv.Append(key, value);
  return Attend(query, all_keys, all_values, blocked);
}

torch::Tensor LlamaAttentionImpl::Attend(const torch::Tensor& query, torch::Tensor key,
                                         torch::Tensor value, const torch::Tensor& blocked) {
  if (num_kv_heads_ != num_heads_) {
    // Each key/value head serves num_heads / num_kv_heads consecutive query heads.
    key = key.repeat_interleave(num_heads_ / num_kv_heads_, 1);
    value = value.repeat_interleave(num_heads_ / num_kv_heads_, 1);
  }
  const double scale = 1.0 / std::sqrt(static_cast<double>(head_dim_));
  return o_proj_(ScaledDotProductAttention(query, key, value, blocked, scale,
                                           is_training() ? attention_dropout_ : 0));
}

LlamaMlpImpl::LlamaMlpImpl(const TransformerConfig& config) : activation_(config.activation) {
  gate_proj_ = register_module(
      "gate_proj", MakeLinear(config.hidden_size, config.intermediate_size, config.mlp_bias));
  up_proj_ = register_module(
      "up_proj", MakeLinear(config.hidden_size, config.intermediate_size, config.mlp_bias));
  down_proj_ = register_module(
      "down_proj", MakeLinear(config.intermediate_size, config.hidden_size, config.mlp_bias));
}

torch::Tensor LlamaMlpImpl::forward(const torch::Tensor& hidden) {
  return down_proj_(Activate(activation_, gate_proj_(hidden)) * up_proj_(hidden));
}

LlamaDecoderLayerImpl::LlamaDecoderLayerImpl(const TransformerConfig& config) {
  self_attn_ = register_module("self_attn", LlamaAttention(config));
  mlp_ = register_module("mlp", LlamaMlp(config));
  input_layernorm_ =
      register_module("input_layernorm", RmsNorm(config.hidden_size, config.norm_eps));
  post_attention_layernorm_ =
      register_module("post_attention_layernorm", RmsNorm(config.hidden_size, config.norm_eps));
}

torch::Tensor LlamaDecoderLayerImpl::BlockForward(const torch::Tensor& hidden,
                                                  const std::vector<torch::Tensor>& context) {
  const torch::Tensor positions = context.size() > 3 ? context[3] : torch::Tensor();
  const torch::Tensor residual = positions.defined() ? TakePositions(hidden, positions) : hidden;
  const torch::Tensor attended =
      self_attn_(input_layernorm_(hidden), context[0], context[1], context[2], positions) +
      residual;
  return mlp_(post_attention_layernorm_(attended)) + attended;
}

torch::Tensor LlamaDecoderLayerImpl::ForwardCached(const torch::Tensor& hidden,
                                                   const torch::Tensor& cos,
                                                   const torch::Tensor& sin,
                                                   const torch::Tensor& blocked, LayerKv& kv) {
  const torch::Tensor attended =
      self_attn_->ForwardCached(input_layernorm_(hidden), cos, sin, blocked, kv) + hidden;
  return mlp_(post_attention_layernorm_(attended)) + attended;
}

LlamaModelImpl::LlamaModelImpl(const TransformerConfig& config) : config_(config) {
  embed_tokens_ = register_module("embed_tokens",
                                  torch::nn::Embedding(config.vocab_size, config.hidden_size));
  layers_ = register_module("layers", torch::nn::ModuleList());
  for (int64_t layer = 0; layer < config.num_layers; ++layer) {
    layers_->push_back(Settled(LlamaDecoderLayer(config)));
  }
  norm_ = register_module("norm", RmsNorm(config.hidden_size, config.norm_eps));
}

torch::Tensor LlamaModelImpl::forward(const torch::Tensor& input_ids,
                                      const torch::Tensor& attention_mask, bool checkpoint,
                                      const torch::Tensor& output_positions, RowLayout rows) {
  torch::Tensor hidden = embed_tokens_(input_ids);
  auto [cos, sin] =
      RotaryTables(input_ids.size(1), config_.head_dim, config_.rope_theta, input_ids.device());
  if (rows == RowLayout::kPacked) {
    // Packed rows: each example rotated from position 0, as it would be alone; [batch, seq, dim].
    const torch::Tensor positions = PositionsInExamples(attention_mask);
    cos = cos.squeeze(0).index({positions});
    sin = sin.squeeze(0).index({positions});
  }
  const torch::Tensor blocked =
      AttentionBlockedMask(attention_mask, /*causal=*/true, config_.sliding_window, rows);
  const bool recompute = checkpoint && torch::GradMode::is_enabled();
  return norm_(RunBlocks(layers_, hidden, {cos, sin, blocked}, recompute, output_positions));
}

torch::Tensor LlamaModelImpl::ForwardCached(const torch::Tensor& input_ids, KvCache& cache) {
  const int64_t past = cache.length();
  const int64_t seq = input_ids.size(1);
  torch::Tensor hidden = embed_tokens_(input_ids);
  // The full table's rows for the new positions: the same values the full forward uses there.
  auto [cos, sin] =
      RotaryTables(past + seq, config_.head_dim, config_.rope_theta, input_ids.device());
  cos = cos.narrow(1, past, seq);
  sin = sin.narrow(1, past, seq);
  const torch::Tensor blocked =
      CachedBlockedMask(past, seq, config_.sliding_window, input_ids.device());
  for (std::size_t layer = 0; layer < layers_->size(); ++layer) {
    hidden = layers_[layer]->as<LlamaDecoderLayerImpl>()->ForwardCached(hidden, cos, sin, blocked,
                                                                         cache.layer(layer));
  }
  return norm_(hidden);
}

LlamaForSequenceClassificationImpl::LlamaForSequenceClassificationImpl(const ModelConfig& config,
                                                                       int64_t num_labels)
    : config_(config), num_labels_(num_labels) {
  TORCH_CHECK(num_labels >= 1, "num_labels must be at least 1, got ", num_labels);
  model_ = register_module("model", LlamaModel(config.transformer));
  score_ = register_module("score", MakeLinear(config.transformer.hidden_size, num_labels, false));
  InitializeHfWeights(*this, config.transformer.initializer_range);
}

torch::Tensor LlamaForSequenceClassificationImpl::forward(const torch::Tensor& input_ids,
                                                          const torch::Tensor& attention_mask) {
  const torch::Tensor last = LastTokenPositions(attention_mask);
  return score_(model_(input_ids, attention_mask, checkpointing_, last).squeeze(1));
}

std::string LlamaForSequenceClassificationImpl::HfConfigJson(
    const std::vector<std::string>& label_names) const {
  return ExportedConfigJson(config_, label_names);
}

}  // namespace ft::models
