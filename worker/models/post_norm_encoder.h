// The post-LayerNorm encoder layer that BERT, RoBERTa and DistilBERT share: the same math under
// different Hugging Face names, so each family registers the modules under its own names and
// runs them through one forward. Include only from Torch translation units.
#pragma once

#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/normalization.h>
#include <torch/types.h>

#include <cstdint>
#include <string>

#include "common/models/model_config.h"
#include "worker/adapters/adaptable_linear.h"

namespace ft::models {

struct PostNormEncoderParts {
  int64_t num_heads = 0;
  int64_t head_dim = 0;
  std::string activation;
  // Training-mode dropout (TransformerConfig's rates).
  double attention_dropout = 0;         // on the attention probabilities
  double attention_output_dropout = 0;  // on attention_out's output
  double mlp_output_dropout = 0;        // on outer's output
  adapters::AdaptableLinear query{nullptr};
  adapters::AdaptableLinear key{nullptr};
  adapters::AdaptableLinear value{nullptr};
  adapters::AdaptableLinear attention_out{nullptr};
  torch::nn::LayerNorm attention_norm{nullptr};
  adapters::AdaptableLinear inner{nullptr};  // hidden -> intermediate
  adapters::AdaptableLinear outer{nullptr};  // intermediate -> hidden
  torch::nn::LayerNorm output_norm{nullptr};
};

// attended = attention_norm(x + attention_out(attention(x))), then
// output_norm(attended + outer(activation(inner(attended)))), with the parts' dropout when
// `training`. hidden [batch, seq, width]; blocked from AttentionBlockedMask. Returns [batch, seq,
// width]; with output_positions ([batch] int64) only those rows, [batch, 1, width], computed for
// those queries alone (keys and values still cover every position).
torch::Tensor PostNormEncoderForward(PostNormEncoderParts& parts, const torch::Tensor& hidden,
                                     const torch::Tensor& blocked,
                                     const torch::Tensor& output_positions, bool training);

// The parts' dropout rates from the configuration (DistilBERT's attention output has none).
void SetEncoderDropout(PostNormEncoderParts& parts, const TransformerConfig& config);

// Runs the encoder layers (each a CheckpointableBlock whose context is {blocked}) over hidden
// [batch, seq, width] and returns the first token's final state [batch, width], what the BERT
// family's heads read; the last layer computes only that row.
torch::Tensor EncodeFirstToken(torch::nn::ModuleList& layers, const torch::Tensor& hidden,
                               const torch::Tensor& attention_mask, bool checkpointing);

}  // namespace ft::models
