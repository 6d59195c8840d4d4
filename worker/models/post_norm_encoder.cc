#include "worker/models/post_norm_encoder.h"

#include <cmath>

#include "worker/models/activation_checkpoint.h"
#include "worker/models/transformer_parts.h"

namespace ft::models {

torch::Tensor PostNormEncoderForward(PostNormEncoderParts& parts, const torch::Tensor& hidden,
                                     const torch::Tensor& blocked,
                                     const torch::Tensor& output_positions, bool training) {
  const int64_t batch = hidden.size(0);
  const auto heads = [&](const torch::Tensor& x) {
    return x.view({batch, -1, parts.num_heads, parts.head_dim}).transpose(1, 2);
  };
  const bool all_rows = !output_positions.defined();
  const torch::Tensor residual = all_rows ? hidden : TakePositions(hidden, output_positions);
  const double scale = 1.0 / std::sqrt(static_cast<double>(parts.head_dim));
  const torch::Tensor attention = ScaledDotProductAttention(
      heads(parts.query(residual)), heads(parts.key(hidden)), heads(parts.value(hidden)),
      all_rows ? blocked : TakeQueryRows(blocked, output_positions), scale,
      training ? parts.attention_dropout : 0);
  const torch::Tensor attended = parts.attention_norm(
      Dropout(parts.attention_out(attention), parts.attention_output_dropout, training) +
      residual);
  const torch::Tensor inner = Activate(parts.activation, parts.inner(attended));
  return parts.output_norm(Dropout(parts.outer(inner), parts.mlp_output_dropout, training) +
                           attended);
}

void SetEncoderDropout(PostNormEncoderParts& parts, const TransformerConfig& config) {
  parts.attention_dropout = config.attention_dropout;
  parts.attention_output_dropout = config.attention_output_dropout;
  parts.mlp_output_dropout = config.mlp_output_dropout;
}

torch::Tensor EncodeFirstToken(torch::nn::ModuleList& layers, const torch::Tensor& hidden,
                               const torch::Tensor& attention_mask, bool checkpointing) {
  const torch::Tensor first_position =
      torch::zeros({hidden.size(0)}, attention_mask.options().dtype(torch::kInt64));
  const bool recompute = checkpointing && torch::GradMode::is_enabled();
  return RunBlocks(layers, hidden, {AttentionBlockedMask(attention_mask, /*causal=*/false)},
                   recompute, first_position)
      .squeeze(1);
}

}  // namespace ft::models
