#include "worker/models/causal_lm.h"

#include <torch/nn/functional/linear.h>

#include "worker/models/bloom_hf_config.h"
#include "worker/models/hf_export_config.h"
#include "worker/models/transformer_parts.h"

namespace ft::models {

CausalLmImpl::CausalLmImpl(const ModelConfig& config, int64_t vocab_size, int64_t hidden_size,
                           bool tied)
    : config_(config), vocab_size_(vocab_size), tied_(tied) {
  if (!tied_) lm_head_ = register_module("lm_head", MakeLinear(hidden_size, vocab_size, false));
}

std::vector<std::string> CausalLmImpl::HeadParameterNames() const {
  if (tied_) return {};
  return {"lm_head.weight"};
}

std::string CausalLmImpl::HfConfigJson(const std::vector<std::string>& /*label_names*/) const {
  if (config_.family == ModelFamily::kBloom) return BloomCausalLmConfigJson(config_.bloom);
  return ExportedCausalLmConfigJson(config_);
}

int64_t CausalLmImpl::max_positions() const {
  return config_.family == ModelFamily::kGpt2 ? config_.transformer.max_positions : 0;
}

torch::Tensor CausalLmImpl::Logits(const torch::Tensor& hidden,
                                   const torch::nn::Embedding& embedding) {
  if (!tied_) return lm_head_(hidden);
  return torch::nn::functional::linear(hidden, embedding->weight);
}

BloomForCausalLmImpl::BloomForCausalLmImpl(const ModelConfig& config)
    : CausalLmImpl(config, config.bloom.vocab_size, config.bloom.hidden_size, /*tied=*/true) {
  transformer_ = register_module("transformer", BloomTransformer(config.bloom));
  InitializeHfWeights(*this, config.bloom.initializer_range);
}

torch::Tensor BloomForCausalLmImpl::ForwardRows(const torch::Tensor& input_ids,
                                            const torch::Tensor& attention_mask, RowLayout rows) {
  return Logits(transformer_(input_ids, attention_mask, PaddingMaskUse{}, torch::Tensor(), rows),
                transformer_->word_embeddings());
}

torch::Tensor BloomForCausalLmImpl::NextTokenLogits(const torch::Tensor& input_ids,
                                                    KvCache& cache) {
  return Logits(transformer_->ForwardCached(input_ids, cache).select(1, -1),
                transformer_->word_embeddings());
}

Gpt2LmHeadModelImpl::Gpt2LmHeadModelImpl(const ModelConfig& config)
    : CausalLmImpl(config, config.transformer.vocab_size, config.transformer.hidden_size,
                   config.transformer.tie_word_embeddings) {
  transformer_ = register_module("transformer", Gpt2Model(config.transformer));
  InitializeHfWeights(*this, config.transformer.initializer_range);
}

torch::Tensor Gpt2LmHeadModelImpl::ForwardRows(const torch::Tensor& input_ids,
                                           const torch::Tensor& attention_mask, RowLayout rows) {
  return Logits(transformer_(input_ids, attention_mask, checkpointing_, torch::Tensor(), rows),
                transformer_->wte());
}

torch::Tensor Gpt2LmHeadModelImpl::NextTokenLogits(const torch::Tensor& input_ids,
                                                   KvCache& cache) {
  return Logits(transformer_->ForwardCached(input_ids, cache).select(1, -1), transformer_->wte());
}

LlamaForCausalLmImpl::LlamaForCausalLmImpl(const ModelConfig& config)
    : CausalLmImpl(config, config.transformer.vocab_size, config.transformer.hidden_size,
                   config.transformer.tie_word_embeddings) {
  model_ = register_module("model", LlamaModel(config.transformer));
  InitializeHfWeights(*this, config.transformer.initializer_range);
}

torch::Tensor LlamaForCausalLmImpl::ForwardRows(const torch::Tensor& input_ids,
                                            const torch::Tensor& attention_mask, RowLayout rows) {
  return Logits(model_(input_ids, attention_mask, checkpointing_, torch::Tensor(), rows),
                model_->embed_tokens());
}

torch::Tensor LlamaForCausalLmImpl::NextTokenLogits(const torch::Tensor& input_ids,
                                                    KvCache& cache) {
  return Logits(model_->ForwardCached(input_ids, cache).select(1, -1), model_->embed_tokens());
}

}  // namespace ft::models
