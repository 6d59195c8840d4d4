#include "worker/models/distilbert_model.h"

#include <torch/utils.h>

#include <cmath>
#include <memory>

#include "worker/models/block_dtype.h"
#include "worker/models/hf_export_config.h"

namespace ft::models {
DistilBertLayerImpl::DistilBertLayerImpl(const TransformerConfig& config) {
  const int64_t width = config.hidden_size;
  parts_.num_heads = config.num_heads;
  parts_.head_dim = config.head_dim;
  parts_.activation = config.activation;
  SetEncoderDropout(parts_, config);
  const auto attention = Group(*this, "attention");
  parts_.query = attention->register_module("q_lin", MakeLinear(width, width, true));
  parts_.key = attention->register_module("k_lin", MakeLinear(width, width, true));
  parts_.value = attention->register_module("v_lin", MakeLinear(width, width, true));
  parts_.attention_out = attention->register_module("out_lin", MakeLinear(width, width, true));
  parts_.attention_norm =
      register_module("sa_layer_norm", MakeLayerNorm(width, config.norm_eps));
  const auto ffn = Group(*this, "ffn");
  parts_.inner = ffn->register_module("lin1", MakeLinear(width, config.intermediate_size, true));
  parts_.outer = ffn->register_module("lin2", MakeLinear(config.intermediate_size, width, true));
  parts_.output_norm =
      register_module("output_layer_norm", MakeLayerNorm(width, config.norm_eps));
}

torch::Tensor DistilBertLayerImpl::BlockForward(const torch::Tensor& hidden,
                                                const std::vector<torch::Tensor>& context) {
  return PostNormEncoderForward(parts_, hidden, context[0],
                                context.size() > 1 ? context[1] : torch::Tensor(), is_training());
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
  for (int64_t layer = 0; layer < c.num_layers; ++layer) {
    layers_->push_back(Settled(DistilBertLayer(c)));
  }
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
  const TransformerConfig& c = config_.transformer;
  const bool training = is_training();
  const torch::Tensor hidden = Dropout(
      embeddings_norm_(word_embeddings_(input_ids) + position_embeddings_(positions).unsqueeze(0)),
      c.embedding_dropout, training);
  const torch::Tensor first = EncodeFirstToken(layers_, hidden, attention_mask, checkpointing_);
  return classifier_(Dropout(torch::relu(pre_classifier_(first)), c.classifier_dropout, training));
}

std::string DistilBertForSequenceClassificationImpl::HfConfigJson(
    const std::vector<std::string>& label_names) const {
  return ExportedConfigJson(config_, label_names);
}

}  // namespace ft::models
