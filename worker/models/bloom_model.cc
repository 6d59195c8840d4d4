#include "worker/models/bloom_model.h"

#include <torch/nn/init.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <cmath>
#include <string>

#include "worker/models/activation_checkpoint.h"
#include "worker/models/alibi.h"
#include "worker/models/block_dtype.h"
#include "worker/models/bloom_hf_config.h"
#include "worker/models/tanh_gelu.h"
#include "worker/models/transformer_parts.h"

namespace ft::models {
namespace {

torch::nn::LayerNorm BloomLayerNorm(const BloomConfig& config) {
  return MakeLayerNorm(config.hidden_size, config.layer_norm_epsilon);
}

}  // namespace

torch::Tensor BloomGelu(const torch::Tensor& x) {
  // BLOOM's x * 0.5 * (1 + tanh(0.79788456 * x * (1 + 0.044715 * x^2))) is GeLU's tanh
  // approximation, one fused pass forward and backward (tanh_gelu.h): written out as eight
  // element-wise operations it took ~6x longer and kept their intermediates for backward.
  return TanhGelu(x);
}

torch::Tensor BuildAlibi(const torch::Tensor& attention_mask, int64_t num_heads,
                         torch::ScalarType dtype, RowLayout rows) {
  const std::vector<float> slope_values = AlibiSlopes(num_heads);
  const torch::Tensor slopes =
      torch::tensor(slope_values, torch::kFloat32).to(attention_mask.device());
  const torch::Tensor mask = attention_mask.to(torch::kInt64);
  // Position of each token among the non-padding tokens of its row, padding 0; in a packed row
  // its position inside its example, so that each example's bias is the one it has alone.
  const torch::Tensor positions =
      (rows == RowLayout::kPacked ? PositionsInExamples(mask) : (mask.cumsum(-1) - 1) * mask)
          .to(torch::kFloat32);
  const int64_t batch = mask.size(0);
  const int64_t seq = mask.size(1);
  return (slopes.view({1, num_heads, 1, 1}) * positions.view({batch, 1, 1, seq})).to(dtype);
}

BloomAttentionImpl::BloomAttentionImpl(const BloomConfig& config)
    : num_heads_(config.n_head), head_dim_(config.hidden_size / config.n_head) {
  TORCH_CHECK(config.hidden_size % config.n_head == 0, "hidden_size ", config.hidden_size,
              " is not divisible by n_head ", config.n_head);
  query_key_value_ = register_module("query_key_value",
                                     MakeLinear(config.hidden_size, 3 * config.hidden_size, true));
  dense_ = register_module("dense", MakeLinear(config.hidden_size, config.hidden_size, true));
}

torch::Tensor BloomAttentionBias(const torch::Tensor& alibi, const torch::Tensor& masked) {
  const torch::Tensor blocked = torch::full({}, kBlockedAttentionBias, alibi.options());
  return torch::where(masked, blocked, alibi).contiguous();
}

torch::Tensor BloomAttentionImpl::forward(const torch::Tensor& hidden, const torch::Tensor& bias,
                                          const torch::Tensor& query_positions) {
  const int64_t batch = hidden.size(0);
  const int64_t seq = hidden.size(1);
  // Hugging Face's fused layout interleaves per head: [..., head, (q|k|v), head_dim].
  const torch::Tensor fused = query_key_value_(hidden).view({batch, seq, num_heads_, 3, head_dim_});
  torch::Tensor query = fused.select(3, 0);  // [batch, seq, heads, dim]
  const torch::Tensor key = fused.select(3, 1).transpose(1, 2);  // [batch, heads, seq, dim]
  const torch::Tensor value = fused.select(3, 2).transpose(1, 2);
  torch::Tensor query_bias = bias;
  if (query_positions.defined()) {
    query = TakePositions(query.flatten(2), query_positions)
                .view({batch, 1, num_heads_, head_dim_});
    query_bias = TakeQueryRows(bias, query_positions);
  }
  return Attend(query.transpose(1, 2), key, value, query_bias);
}

torch::Tensor BloomAttentionImpl::ForwardCached(const torch::Tensor& hidden,
                                                const torch::Tensor& bias, LayerKv& kv) {
  const int64_t batch = hidden.size(0);
  const int64_t seq = hidden.size(1);
  const torch::Tensor fused = query_key_value_(hidden).view({batch, seq, num_heads_, 3, head_dim_});
  auto [key, value] =
      kv.Append(fused.select(3, 1).transpose(1, 2), fused.select(3, 2).transpose(1, 2));
  return Attend(fused.select(3, 0).transpose(1, 2), key, value,
                bias.expand({batch, num_heads_, seq, key.size(2)}));
}

torch::Tensor BloomAttentionImpl::Attend(const torch::Tensor& query, const torch::Tensor& key,
                                         const torch::Tensor& value, const torch::Tensor& bias) {
  const double inverse_norm = 1.0 / std::sqrt(static_cast<double>(head_dim_));
  return dense_(AttentionWithBias(query, key, value, bias, inverse_norm));
}

BloomMlpImpl::BloomMlpImpl(const BloomConfig& config) {
  dense_h_to_4h_ = register_module("dense_h_to_4h",
                                   MakeLinear(config.hidden_size, 4 * config.hidden_size, true));
  dense_4h_to_h_ = register_module("dense_4h_to_h",
                                   MakeLinear(4 * config.hidden_size, config.hidden_size, true));
}

torch::Tensor BloomMlpImpl::forward(const torch::Tensor& hidden) {
  return dense_4h_to_h_(BloomGelu(dense_h_to_4h_(hidden)));
}

BloomBlockImpl::BloomBlockImpl(const BloomConfig& config) {
  input_layernorm_ = register_module("input_layernorm", BloomLayerNorm(config));
  self_attention_ = register_module("self_attention", BloomAttention(config));
  post_attention_layernorm_ = register_module("post_attention_layernorm", BloomLayerNorm(config));
  mlp_ = register_module("mlp", BloomMlp(config));
}

torch::Tensor BloomBlockImpl::forward(const torch::Tensor& hidden, const torch::Tensor& bias,
                                      const torch::Tensor& output_positions) {
  // apply_residual_connection_post_layernorm = false: the residuals are the block inputs.
  const torch::Tensor residual =
      output_positions.defined() ? TakePositions(hidden, output_positions) : hidden;
  const torch::Tensor attention_output =
      self_attention_(input_layernorm_(hidden), bias, output_positions) + residual;
  return mlp_(post_attention_layernorm_(attention_output)) + attention_output;
}

torch::Tensor BloomBlockImpl::ForwardCached(const torch::Tensor& hidden, const torch::Tensor& bias,
                                            LayerKv& kv) {
  const torch::Tensor attention_output =
      self_attention_->ForwardCached(input_layernorm_(hidden), bias, kv) + hidden;
  return mlp_(post_attention_layernorm_(attention_output)) + attention_output;
}

BloomTransformerImpl::BloomTransformerImpl(const BloomConfig& config) : config_(config) {
  word_embeddings_ = register_module("word_embeddings",
                                     torch::nn::Embedding(config.vocab_size, config.hidden_size));
  word_embeddings_layernorm_ = register_module("word_embeddings_layernorm", BloomLayerNorm(config));
  h_ = register_module("h", torch::nn::ModuleList());
  for (int64_t layer = 0; layer < config.n_layer; ++layer) {
    h_->push_back(Settled(BloomBlock(config)));
  }
  ln_f_ = register_module("ln_f", BloomLayerNorm(config));
}

torch::Tensor BloomTransformerImpl::forward(const torch::Tensor& input_ids,
                                            const torch::Tensor& attention_mask,
                                            const PaddingMaskUse& mask_use,
                                            const torch::Tensor& output_positions,
                                            RowLayout rows) {
  torch::Tensor hidden = word_embeddings_layernorm_(word_embeddings_(input_ids));

  const torch::Tensor mask =
      mask_use.in_attention ? attention_mask : torch::ones_like(attention_mask);
  const torch::Tensor alibi = BuildAlibi(mask, config_.n_head, hidden.scalar_type(), rows);
  // True where a query may not look: at a later position, a padding key or another example.
  const torch::Tensor masked = AttentionBlockedMask(mask, /*causal=*/true, 0, rows);

  const bool checkpoint = activation_checkpointing_ && torch::GradMode::is_enabled();
  // One bias for all blocks: ALiBi where attention is allowed, kBlockedAttentionBias elsewhere.
  const torch::Tensor bias = BloomAttentionBias(alibi, masked);
  return ln_f_(RunBlocks(h_, hidden, {bias}, checkpoint, output_positions));
}

torch::Tensor BloomTransformerImpl::ForwardCached(const torch::Tensor& input_ids, KvCache& cache) {
  const int64_t batch = input_ids.size(0);
  const int64_t past = cache.length();
  const int64_t total = past + input_ids.size(1);
  torch::Tensor hidden = word_embeddings_layernorm_(word_embeddings_(input_ids));
  // Unpadded rows: ALiBi's key positions are 0..total-1, the cached ones included.
  const torch::Tensor alibi = BuildAlibi(
      torch::ones({batch, total}, input_ids.options().dtype(torch::kInt64)), config_.n_head,
      hidden.scalar_type());
  const torch::Tensor bias = BloomAttentionBias(
      alibi, CachedBlockedMask(past, input_ids.size(1), /*sliding_window=*/0, input_ids.device()));
  for (std::size_t layer = 0; layer < h_->size(); ++layer) {
    hidden = h_[layer]->as<BloomBlockImpl>()->ForwardCached(hidden, bias, cache.layer(layer));
  }
  return ln_f_(hidden);
}

BloomForSequenceClassificationImpl::BloomForSequenceClassificationImpl(const BloomConfig& config,
                                                                       int64_t num_labels)
    : config_(config), num_labels_(num_labels) {
  TORCH_CHECK(num_labels >= 1, "num_labels must be at least 1, got ", num_labels);
  transformer_ = register_module("transformer", BloomTransformer(config));
  score_ = register_module("score", MakeLinear(config.hidden_size, num_labels, false));
  InitializeHfWeights(*this, config_.initializer_range);
}

std::string BloomForSequenceClassificationImpl::HfConfigJson(
    const std::vector<std::string>& label_names) const {
  return BloomSequenceClassificationConfigJson(config_, label_names);
}

torch::Tensor BloomForSequenceClassificationImpl::HiddenStates(const torch::Tensor& input_ids,
                                                               const torch::Tensor& attention_mask,
                                                               const PaddingMaskUse& mask_use) {
  return transformer_(input_ids, attention_mask, mask_use);
}

torch::Tensor BloomForSequenceClassificationImpl::forward(const torch::Tensor& input_ids,
                                                          const torch::Tensor& attention_mask,
                                                          const PaddingMaskUse& mask_use) {
  const int64_t batch = input_ids.size(0);
  const torch::Tensor last_position =
      mask_use.in_pooling
          ? LastTokenPositions(attention_mask)
          : torch::full({batch}, input_ids.size(1) - 1,
                        attention_mask.options().dtype(torch::kInt64));
  return score_(transformer_(input_ids, attention_mask, mask_use, last_position).squeeze(1));
}

}  // namespace ft::models
