// Native LibTorch implementation of Hugging Face's GPT2ForSequenceClassification: learned
// positions, pre-LayerNorm blocks with Conv1D layers (weights stored [in, out]), gelu_new MLP,
// last-token pooling, "score" head without bias. Parameter names equal Hugging Face's
// ("transformer.h.0.attn.c_attn.weight", "score.weight"). Include only from Torch translation
// units.
#pragma once

#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/normalization.h>

#include "common/models/model_config.h"
#include "worker/adapters/adaptable_linear.h"
#include "worker/models/activation_checkpoint.h"
#include "worker/models/kv_cache.h"
#include "worker/models/trainable_model.h"
#include "worker/models/transformer_parts.h"

namespace ft::models {

class Gpt2AttentionImpl : public torch::nn::Module {
 public:
  Gpt2AttentionImpl(const TransformerConfig& config, int64_t layer_index);
  // hidden [batch, seq, hidden] -> [batch, seq, hidden]; with query_positions ([batch] int64)
  // only those queries are computed: [batch, 1, hidden].
  torch::Tensor forward(const torch::Tensor& hidden, const torch::Tensor& blocked,
                        const torch::Tensor& query_positions = {});
  // Incremental decoding: hidden [batch, new, hidden] of the tokens after those in `kv`, blocked
  // [1, 1, new, cached + new] (CachedBlockedMask); appends their keys and values to `kv`.
  torch::Tensor ForwardCached(const torch::Tensor& hidden, const torch::Tensor& blocked,
                              LayerKv& kv);

 private:
  int64_t num_heads_;
  int64_t head_dim_;
  double scale_;
  double attention_dropout_;  // attn_pdrop, on the probabilities
  double output_dropout_;     // resid_pdrop, on c_proj's output
  Conv1D c_attn_{nullptr};
  Conv1D c_proj_{nullptr};
};
TORCH_MODULE(Gpt2Attention);

class Gpt2MlpImpl : public torch::nn::Module {
 public:
  explicit Gpt2MlpImpl(const TransformerConfig& config);
  torch::Tensor forward(const torch::Tensor& hidden);

 private:
  std::string activation_;
  double output_dropout_;  // resid_pdrop
  Conv1D c_fc_{nullptr};
  Conv1D c_proj_{nullptr};
};
TORCH_MODULE(Gpt2Mlp);

class Gpt2BlockImpl : public torch::nn::Module, public CheckpointableBlock {
 public:
  Gpt2BlockImpl(const TransformerConfig& config, int64_t layer_index);
  // context: {blocked} or {blocked, output_positions} (see RunBlocks).
  torch::Tensor BlockForward(const torch::Tensor& hidden,
                             const std::vector<torch::Tensor>& context) override;
  // The block for the tokens after those in `kv` (Gpt2AttentionImpl::ForwardCached).
  torch::Tensor ForwardCached(const torch::Tensor& hidden, const torch::Tensor& blocked,
                              LayerKv& kv);

 private:
  torch::nn::LayerNorm ln_1_{nullptr};
  Gpt2Attention attn_{nullptr};
  torch::nn::LayerNorm ln_2_{nullptr};
  Gpt2Mlp mlp_{nullptr};
};
TORCH_MODULE(Gpt2Block);

class Gpt2ModelImpl : public torch::nn::Module {
 public:
  explicit Gpt2ModelImpl(const TransformerConfig& config);
  // Last hidden states [batch, seq, hidden]; with output_positions only those, [batch, 1, hidden].
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                        bool checkpoint, const torch::Tensor& output_positions = {},
                        RowLayout rows = RowLayout::kOneExample);
  // Incremental decoding: the last hidden states [batch, new, hidden] of input_ids [batch, new]
  // (no padding), the tokens after those in `cache`, whose keys and values it appends. Learned
  // positions continue from the cached length.
  torch::Tensor ForwardCached(const torch::Tensor& input_ids, KvCache& cache);
  // The token embedding, which GPT2LMHeadModel's output layer shares.
  const torch::nn::Embedding& wte() const { return wte_; }

 private:
  double embedding_dropout_;  // embd_pdrop
  torch::nn::Embedding wte_{nullptr};
  torch::nn::Embedding wpe_{nullptr};
  torch::nn::ModuleList h_{nullptr};
  torch::nn::LayerNorm ln_f_{nullptr};
};
TORCH_MODULE(Gpt2Model);

class Gpt2ForSequenceClassificationImpl : public TrainableModelImpl {
 public:
  Gpt2ForSequenceClassificationImpl(const ModelConfig& config, int64_t num_labels);

  torch::Tensor forward(const torch::Tensor& input_ids,
                        const torch::Tensor& attention_mask) override;
  int64_t num_labels() const override { return num_labels_; }
  void set_activation_checkpointing(bool on) override { checkpointing_ = on; }
  std::string BaseModelPrefix() const override { return "transformer."; }
  std::vector<std::string> HeadParameterNames() const override { return {"score.weight"}; }
  std::string HfConfigJson(const std::vector<std::string>& label_names) const override;

 private:
  ModelConfig config_;
  int64_t num_labels_;
  bool checkpointing_ = false;
  Gpt2Model transformer_{nullptr};
  adapters::AdaptableLinear score_{nullptr};
};
TORCH_MODULE(Gpt2ForSequenceClassification);

}  // namespace ft::models
