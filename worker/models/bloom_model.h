// Native LibTorch implementation of Hugging Face's BloomForSequenceClassification. Module and
// parameter names equal Hugging Face's ("transformer.h.0.self_attention.query_key_value.weight",
// "score.weight", ...) so that loading a checkpoint is a name mapping.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <cstdint>

#include "common/models/model_catalog.h"
#include "worker/adapters/adaptable_linear.h"
#include "worker/models/activation_checkpoint.h"
#include "worker/models/kv_cache.h"
#include "worker/models/trainable_model.h"
#include "worker/models/transformer_parts.h"

namespace ft::models {

// Which uses of the attention (padding) mask are active. Everything on in real use; tests switch
// parts off to prove that they would notice a model that ignores padding.
struct PaddingMaskUse {
  bool in_attention = true;  // keys at padding positions are masked; ALiBi positions skip them
  bool in_pooling = true;    // classify from the last non-padding position (else the last one)
};

// The score added where attention is blocked: exp() of it is exactly 0 next to any real score,
// and it stays finite in float16 (its lowest is -65504) and bfloat16, so that a fully blocked row
// (a padding query) gives finite values instead of NaN, which would reach real rows as 0 * NaN.
constexpr double kBlockedAttentionBias = -1e4;

// The additive attention bias [batch, heads, seq, seq]: the ALiBi bias ([batch, heads, 1, seq])
// where attention is allowed, kBlockedAttentionBias where masked ([batch, 1, seq, seq] bool, true
// where a query may not look) says it is not.
torch::Tensor BloomAttentionBias(const torch::Tensor& alibi, const torch::Tensor& masked);

class BloomAttentionImpl : public torch::nn::Module {
 public:
  explicit BloomAttentionImpl(const BloomConfig& config);
  // hidden: [batch, seq, hidden]; bias: BloomAttentionBias. Returns dense(attention output) (no
  // residual), [batch, seq, hidden]; with query_positions ([batch] int64) only for those queries
  // (keys and values still cover every position): [batch, 1, hidden].
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& bias,
                        const torch::Tensor& query_positions = {});
  // Incremental decoding: hidden [batch, new, hidden] of the tokens after the cached ones, bias
  // [1 or batch, heads, new, cached + new]; appends their keys and values to `kv`.
  torch::Tensor ForwardCached(const torch::Tensor& hidden, const torch::Tensor& bias, LayerKv& kv);

 private:
  // dense(softmax(bias + query key^T / sqrt(head_dim)) value) for query [batch, heads, queries,
  // dim], key and value [batch, heads, keys, dim], bias broadcastable to [batch, heads, queries,
  // keys].
  torch::Tensor Attend(const torch::Tensor& query, const torch::Tensor& key,
                       const torch::Tensor& value, const torch::Tensor& bias);

  int64_t num_heads_;
  int64_t head_dim_;
  adapters::AdaptableLinear query_key_value_{nullptr};
  adapters::AdaptableLinear dense_{nullptr};
};
TORCH_MODULE(BloomAttention);

class BloomMlpImpl : public torch::nn::Module {
 public:
  explicit BloomMlpImpl(const BloomConfig& config);
  torch::Tensor forward(const torch::Tensor& hidden);

 private:
  adapters::AdaptableLinear dense_h_to_4h_{nullptr};
  adapters::AdaptableLinear dense_4h_to_h_{nullptr};
};
TORCH_MODULE(BloomMlp);

class BloomBlockImpl : public torch::nn::Module, public CheckpointableBlock {
 public:
  explicit BloomBlockImpl(const BloomConfig& config);
  // The block's output [batch, seq, hidden]; with output_positions ([batch] int64) only at those
  // positions, [batch, 1, hidden], computing the attention and MLP for those rows alone.
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& bias,
                        const torch::Tensor& output_positions = {});
  // context: {bias} or {bias, output_positions}.
  torch::Tensor BlockForward(const torch::Tensor& hidden,
                             const std::vector<torch::Tensor>& context) override {
    return forward(hidden, context[0], context.size() > 1 ? context[1] : torch::Tensor());
  }
  // The block for the tokens after those in `kv` (BloomAttentionImpl::ForwardCached).
  torch::Tensor ForwardCached(const torch::Tensor& hidden, const torch::Tensor& bias, LayerKv& kv);

 private:
  torch::nn::LayerNorm input_layernorm_{nullptr};
  BloomAttention self_attention_{nullptr};
  torch::nn::LayerNorm post_attention_layernorm_{nullptr};
  BloomMlp mlp_{nullptr};
};
TORCH_MODULE(BloomBlock);

// BloomModel: embeddings, blocks and the final layer norm.
class BloomTransformerImpl : public torch::nn::Module {
 public:
  explicit BloomTransformerImpl(const BloomConfig& config);
  // input_ids, attention_mask: [batch, seq] int64 (mask 1 = token, 0 = padding).
  // Returns the last hidden states [batch, seq, hidden]. With output_positions ([batch] int64)
  // only those positions' states, [batch, 1, hidden]: the last block then computes only those
  // rows (a classifier reads one position, so most of the last block's work can be skipped).
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                        const PaddingMaskUse& mask_use = {},
                        const torch::Tensor& output_positions = {},
                        RowLayout rows = RowLayout::kOneExample);
  // Incremental decoding: the last hidden states [batch, new, hidden] of input_ids [batch, new]
  // (no padding), the tokens after those in `cache`, whose keys and values it appends. ALiBi
  // positions continue from the cached length.
  torch::Tensor ForwardCached(const torch::Tensor& input_ids, KvCache& cache);

  // On: while gradients are recorded, each block keeps only its input and recomputes its
  // activations in the backward pass (see activation_checkpoint.h). Off by default.
  void set_activation_checkpointing(bool on) { activation_checkpointing_ = on; }
  // The token embedding, which BloomForCausalLM's output layer shares.
  const torch::nn::Embedding& word_embeddings() const { return word_embeddings_; }

 private:
  bool activation_checkpointing_ = false;
  BloomConfig config_;
  torch::nn::Embedding word_embeddings_{nullptr};
  torch::nn::LayerNorm word_embeddings_layernorm_{nullptr};
  torch::nn::ModuleList h_{nullptr};
  torch::nn::LayerNorm ln_f_{nullptr};
};
TORCH_MODULE(BloomTransformer);

class BloomForSequenceClassificationImpl : public TrainableModelImpl {
 public:
  BloomForSequenceClassificationImpl(const BloomConfig& config, int64_t num_labels);

  // Logits [batch, num_labels] from the hidden state at each row's last non-padding position.
  torch::Tensor forward(const torch::Tensor& input_ids,
                        const torch::Tensor& attention_mask) override {
    return forward(input_ids, attention_mask, PaddingMaskUse{});
  }
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                        const PaddingMaskUse& mask_use);

  // Hidden states [batch, seq, hidden] after ln_f, for tests of masking.
  torch::Tensor HiddenStates(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                             const PaddingMaskUse& mask_use = {});

  const BloomConfig& config() const { return config_; }
  int64_t num_labels() const override { return num_labels_; }
  void set_activation_checkpointing(bool on) override {
    transformer_->set_activation_checkpointing(on);
  }
  std::string BaseModelPrefix() const override { return "transformer."; }
  std::vector<std::string> HeadParameterNames() const override { return {"score.weight"}; }
  std::string HfConfigJson(const std::vector<std::string>& label_names) const override;

 private:
  BloomConfig config_;
  int64_t num_labels_;
  BloomTransformer transformer_{nullptr};
  adapters::AdaptableLinear score_{nullptr};
};
TORCH_MODULE(BloomForSequenceClassification);

// The ALiBi bias [batch, heads, 1, seq]: slope(head) * position of each key, where positions
// count only non-padding tokens ((cumsum(mask) - 1) * mask), as Hugging Face's build_alibi_tensor;
// in packed rows, the position inside the key's example.
torch::Tensor BuildAlibi(const torch::Tensor& attention_mask, int64_t num_heads,
                         torch::ScalarType dtype, RowLayout rows = RowLayout::kOneExample);

// BLOOM's tanh approximation of GeLU.
torch::Tensor BloomGelu(const torch::Tensor& x);

}  // namespace ft::models
