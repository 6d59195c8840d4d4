#include "models/distilbert_model.h"

#include <torch/utils.h>

#include <cmath>
#include <memory>

#include "models/hf_export_config.h"

namespace ft::models {
DistilBertLayerImpl::DistilBertLayerImpl(const TransformerConfig& config)
    : num_heads_(config.num_heads), head_dim_(config.head_dim), activation_(config.activation) {
  const int64_t width = config.hidden_size;
  const auto attention = Group(*this, "attention");
  q_lin_ = attention->register_module("q_lin", MakeLinear(width, width, true));
  k_lin_ = attention->register_module("k_lin", MakeLinear(width, width, true));
  v_lin_ = attention->register_module("v_lin", MakeLinear(width, width, true));
  out_lin_ = attention->register_module("out_lin", MakeLinear(width, width, true));
  sa_layer_norm_ = register_module("sa_layer_norm", MakeLayerNorm(config.hidden_size, config.norm_eps));
  const auto ffn = Group(*this, "ffn");
  lin1_ = ffn->register_module("lin1", MakeLinear(width, config.intermediate_size, true));
  lin2_ = ffn->register_module("lin2", MakeLinear(config.intermediate_size, width, true));
  output_layer_norm_ = register_module("output_layer_norm", MakeLayerNorm(config.hidden_size, config.norm_eps));
}

torch::Tensor DistilBertLayerImpl::BlockForward(const torch::Tensor& hidden,
                                                const std::vector<torch::Tensor>& context) {
  const int64_t batch = hidden.size(0);
  const int64_t seq = hidden.size(1);
  const auto heads = [&](const torch::Tensor& x) {
    return x.view({batch, seq, num_heads_, head_dim_}).transpose(1, 2);
  };
  const double scale = 1.0 / std::sqrt(static_cast<double>(head_dim_));
  const torch::Tensor attention = ScaledDotProductAttention(
      heads(q_lin_(hidden)), heads(k_lin_(hidden)), heads(v_lin_(hidden)), context[0], scale);
  const torch::Tensor attended = sa_layer_norm_(out_lin_(attention) + hidden);
  const torch::Tensor inner = lin2_(Activate(activation_, lin1_(attended)));
  return output_layer_norm_(inner + attended);
}

DistilBertForSequenceClassificationImpl::DistilBertForSequenceClassificationImpl(
    const ModelConfig& config, int64_t num_labels)
    : config_(config), num_labels_(num_labels) {
  TORCH_CHECK(num_labels >= 1, "num_labels must be at least 1, got ", num_labels);
  const TransformerConfig& c = config.transformer;
  const auto base = Group(*this, "distilbert");
  const auto embeddings = Group(*base, "embeddings");
  word_embeddings_ = embeddings->register_module(
      "word_embeddings", torch::nn::Embedding(c.vocab_size, c.hidden_size));
  position_embeddings_ = embeddings->register_module(
      "position_embeddings", torch::nn::Embedding(c.max_positions, c.hidden_size));
  embeddings_norm_ = embeddings->register_module("LayerNorm", MakeLayerNorm(c.hidden_size, c.norm_eps));
  const auto transformer = Group(*base, "transformer");
  layers_ = transformer->register_module("layer", torch::nn::ModuleList());
  for (int64_t layer = 0; layer < c.num_layers; ++layer) layers_->push_back(DistilBertLayer(c));
  pre_classifier_ =
      register_module("pre_classifier", MakeLinear(c.hidden_size, c.hidden_size, true));
  classifier_ = register_module("classifier", MakeLinear(c.hidden_size, num_labels, true));
  InitializeHfWeights(*this, c.initializer_range);
}

torch::Tensor DistilBertForSequenceClassificationImpl::forward(
    const torch::Tensor& input_ids, const torch::Tensor& attention_mask) {
  const int64_t seq = input_ids.size(1);
  TORCH_CHECK(seq <= position_embeddings_->weight.size(0), "a sequence of ", seq,
              " tokens is longer than max_position_embeddings ",
              position_embeddings_->weight.size(0));
  const torch::Tensor positions = torch::arange(seq, input_ids.options().dtype(torch::kInt64));
  torch::Tensor hidden =
      embeddings_norm_(word_embeddings_(input_ids) + position_embeddings_(positions).unsqueeze(0));
  const std::vector<torch::Tensor> context = {AttentionBlockedMask(attention_mask, false)};
  const bool recompute = checkpointing_ && torch::GradMode::is_enabled();
  for (const auto& layer : *layers_) {
    hidden = RunBlock(*layer->as<DistilBertLayerImpl>(), hidden, context, recompute);
  }
  return classifier_(torch::relu(pre_classifier_(hidden.select(1, 0))));
}

std::string DistilBertForSequenceClassificationImpl::HfConfigJson(
    const std::vector<std::string>& label_names) const {
  return ExportedConfigJson(config_, label_names);
}

}  // namespace ft::models
