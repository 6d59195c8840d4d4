// Building blocks the Hugging Face families share: activations by their config.json names,
// attention masks, scaled dot-product attention, pooling, RMSNorm, GPT-2's Conv1D and
// Hugging Face's default weight initialisation. Include only from Torch translation units.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "worker/adapters/adaptable_linear.h"

namespace ft::models {

adapters::AdaptableLinear MakeLinear(int64_t in, int64_t out, bool bias);
torch::nn::LayerNorm MakeLayerNorm(int64_t width, double eps);

// A module that only groups others under a name ("attention", "embeddings", ...), so that
// parameter names follow Hugging Face's nesting.
std::shared_ptr<torch::nn::Module> Group(torch::nn::Module& parent, const std::string& name);

// x with training-mode dropout of `rate` (thread_generator.h's draw) when `training`, else x.
torch::Tensor Dropout(const torch::Tensor& x, double rate, bool training);

// Hugging Face's ACT2FN: "gelu" (erf), "gelu_new" and "gelu_pytorch_tanh" (tanh approximation),
// "relu", "silu".
torch::Tensor Activate(const std::string& name, const torch::Tensor& x);

// How a batch's rows hold examples: one each (attention mask 1 = token, 0 = padding), or packed
// (worker/data/packing.h: several end to end, numbered 1, 2, ... in the mask, 0 = padding). The
// caller, which laid the rows out, says which: reading it from the mask would cost a host sync.
enum class RowLayout { kOneExample, kPacked };

// [batch, seq] int64: each token's position inside its example (0 at each example's first token),
// what Hugging Face's position_ids are for packed rows; padding counts on from its own start.
torch::Tensor PositionsInExamples(const torch::Tensor& attention_mask);

// [batch, 1, seq, seq] bool, true where a query may not look: at a padding key (mask 0), at a key
// of another example of a packed row, and for causal models at a later key or
// (sliding_window > 0) one sliding_window or more positions back.
torch::Tensor AttentionBlockedMask(const torch::Tensor& attention_mask, bool causal,
                                   int64_t sliding_window = 0,
                                   RowLayout rows = RowLayout::kOneExample);

// softmax(query key^T * scale, blocked keys excluded) value, softmax in at least float32.
// query [batch, heads, queries, dim], key/value [batch, heads, keys, dim], blocked (bool, true
// where a query may not look) broadcastable to [batch, heads, queries, keys]; returns [batch,
// queries, heads * dim]. Blocked scores pass no gradient; a fully blocked row attends uniformly.
// `dropout` > 0 (training only): dropout on the probabilities, as transformers' eager attention.
// FusedAttention where it applies (fused_attention.h; not with dropout), else
// AttentionBlockedOps.
torch::Tensor ScaledDotProductAttention(const torch::Tensor& query, const torch::Tensor& key,
                                        const torch::Tensor& value, const torch::Tensor& blocked,
                                        double scale, double dropout = 0);

// softmax(bias + query key^T * scale) value with an additive bias (float, broadcastable to
// [batch, heads, queries, keys]; BLOOM's ALiBi with -1e4 where blocked), the same shapes; the
// gradient passes through every score. FusedAttention where it applies, else
// AttentionWithBiasOps.
torch::Tensor AttentionWithBias(const torch::Tensor& query, const torch::Tensor& key,
                                const torch::Tensor& value, const torch::Tensor& bias,
                                double scale);

// The two through LibTorch's operators (CUDA, bf16 and fp16, and the reference in tests).
torch::Tensor AttentionBlockedOps(const torch::Tensor& query, const torch::Tensor& key,
                                  const torch::Tensor& value, const torch::Tensor& blocked,
                                  double scale, double dropout = 0);
torch::Tensor AttentionWithBiasOps(const torch::Tensor& query, const torch::Tensor& key,
                                   const torch::Tensor& value, const torch::Tensor& bias,
                                   double scale);

// Each row's last non-padding position (the index of the last 1 of the mask), [batch] int64:
// where the decoder families' *ForSequenceClassification pool.
torch::Tensor LastTokenPositions(const torch::Tensor& attention_mask);

// hidden [batch, seq, width] at one position per row (positions [batch] int64): [batch, 1, width].
torch::Tensor TakePositions(const torch::Tensor& hidden, const torch::Tensor& positions);

// The rows of a [batch or 1, heads or 1, seq, seq] attention mask or bias for one query position
// per row (positions [batch] int64): [batch, heads or 1, 1, seq].
torch::Tensor TakeQueryRows(const torch::Tensor& blocked, const torch::Tensor& positions);

// Llama's RMSNorm: weight * x / sqrt(mean(x^2) + eps), computed in float32.
class RmsNormImpl : public torch::nn::Module {
 public:
  RmsNormImpl(int64_t width, double eps);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight;

 private:
  double eps_;
};
TORCH_MODULE(RmsNorm);

// GPT-2's Conv1D: a linear layer whose weight is stored [in, out] (x @ weight + bias), which can
// carry a LoRA update as PEFT's fan_in_fan_out layers do.
class Conv1DImpl : public torch::nn::Module, public adapters::LoraLayer {
 public:
  Conv1DImpl(int64_t in, int64_t out);
  torch::Tensor forward(const torch::Tensor& x);
  torch::Tensor weight;
  torch::Tensor bias;

 protected:
  torch::nn::Module& host() override { return *this; }
  torch::Tensor base_weight() const override { return weight; }
  torch::Tensor base_bias() const override { return bias; }
  bool weight_is_in_out() const override { return true; }
};
TORCH_MODULE(Conv1D);

// Hugging Face's _init_weights: normal(0, std) for Linear, Conv1D and Embedding weights, zero
// biases, LayerNorm/RMSNorm weights 1 and LayerNorm biases 0.
void InitializeHfWeights(torch::nn::Module& model, double std);

}  // namespace ft::models
