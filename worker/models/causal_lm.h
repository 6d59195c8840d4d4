// The decoder families as causal language models, with the semantics and parameter names of
// Hugging Face's BloomForCausalLM, GPT2LMHeadModel and Llama/Mistral/Qwen2ForCausalLM: the base
// model's hidden states at every position times the LM head, which is the input embedding itself
// when the weights are tied (BLOOM and GPT-2 always, Llama-style models as tie_word_embeddings
// says). A tied head is not a parameter of its own: the optimizer sees the embedding once, and
// the exported folder has no lm_head.weight (transformers ties it again on loading). Include
// only from Torch translation units.
#pragma once

#include <string>
#include <vector>

#include "common/models/model_config.h"
#include "worker/adapters/adaptable_linear.h"
#include "worker/models/bloom_model.h"
#include "worker/models/gpt2_model.h"
#include "worker/models/kv_cache.h"
#include "worker/models/llama_model.h"
#include "worker/models/trainable_model.h"
#include "worker/models/transformer_parts.h"

namespace ft::models {

// What the three classes share: the task, the head and the exported configuration.
class CausalLmImpl : public TrainableModelImpl {
 public:
  ModelTask task() const override { return ModelTask::kCausalLm; }
  int64_t num_labels() const override { return vocab_size_; }
  std::vector<std::string> HeadParameterNames() const override;
  std::string HfConfigJson(const std::vector<std::string>& label_names) const override;
  bool tied() const { return tied_; }

  torch::Tensor forward(const torch::Tensor& input_ids,
                        const torch::Tensor& attention_mask) override {
    return ForwardRows(input_ids, attention_mask, RowLayout::kOneExample);
  }
  torch::Tensor ForwardPacked(const torch::Tensor& input_ids,
                              const torch::Tensor& attention_mask) override {
    return ForwardRows(input_ids, attention_mask, RowLayout::kPacked);
  }

  // Incremental decoding: the logits [batch, vocab] that follow the last of input_ids [batch,
  // new] (rows unpadded, all the same length), given the tokens in `cache` before them; appends
  // the new tokens' keys and values to `cache`. With an empty cache this is the prefill over a
  // prompt, then one token at a time. Equals forward()'s logits at that position over the whole
  // sequence; only the last position goes through the head.
  virtual torch::Tensor NextTokenLogits(const torch::Tensor& input_ids, KvCache& cache) = 0;
  // The most tokens a sequence may have (GPT-2's n_positions); 0 for no limit (ALiBi, rotary).
  int64_t max_positions() const;

 protected:
  CausalLmImpl(const ModelConfig& config, int64_t vocab_size, int64_t hidden_size, bool tied);
  // Logits [batch, seq, vocab] of rows laid out as `rows` says.
  virtual torch::Tensor ForwardRows(const torch::Tensor& input_ids,
                                const torch::Tensor& attention_mask, RowLayout rows) = 0;
  // The head applied to hidden states [batch, seq, hidden]: [batch, seq, vocab].
  torch::Tensor Logits(const torch::Tensor& hidden, const torch::nn::Embedding& embedding);

  ModelConfig config_;
  int64_t vocab_size_;
  bool tied_;
  adapters::AdaptableLinear lm_head_{nullptr};  // only when not tied
  bool checkpointing_ = false;
};

class BloomForCausalLmImpl : public CausalLmImpl {
 public:
  explicit BloomForCausalLmImpl(const ModelConfig& config);
  torch::Tensor NextTokenLogits(const torch::Tensor& input_ids, KvCache& cache) override;
  void set_activation_checkpointing(bool on) override {
    transformer_->set_activation_checkpointing(on);
  }
  std::string BaseModelPrefix() const override { return "transformer."; }

 protected:
  torch::Tensor ForwardRows(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                        RowLayout rows) override;

 private:
  BloomTransformer transformer_{nullptr};
};
TORCH_MODULE(BloomForCausalLm);

class Gpt2LmHeadModelImpl : public CausalLmImpl {
 public:
  explicit Gpt2LmHeadModelImpl(const ModelConfig& config);
  torch::Tensor NextTokenLogits(const torch::Tensor& input_ids, KvCache& cache) override;
  void set_activation_checkpointing(bool on) override { checkpointing_ = on; }
  std::string BaseModelPrefix() const override { return "transformer."; }

 protected:
  torch::Tensor ForwardRows(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                        RowLayout rows) override;

 private:
  Gpt2Model transformer_{nullptr};
};
TORCH_MODULE(Gpt2LmHeadModel);

// Llama, Mistral and Qwen2 (the configuration's switches, as for the classifier).
class LlamaForCausalLmImpl : public CausalLmImpl {
 public:
  explicit LlamaForCausalLmImpl(const ModelConfig& config);
  torch::Tensor NextTokenLogits(const torch::Tensor& input_ids, KvCache& cache) override;
  void set_activation_checkpointing(bool on) override { checkpointing_ = on; }
  std::string BaseModelPrefix() const override { return "model."; }

 protected:
  torch::Tensor ForwardRows(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                        RowLayout rows) override;

 private:
  LlamaModel model_{nullptr};
};
TORCH_MODULE(LlamaForCausalLm);

}  // namespace ft::models
