#include "worker/models/bert_model.h"

#include <torch/utils.h>

#include <cmath>
#include <memory>

#include "worker/models/block_dtype.h"
#include "worker/models/hf_export_config.h"

namespace ft::models {
BertLayerImpl::BertLayerImpl(const TransformerConfig& config) {
  const int64_t width = config.hidden_size;
  parts_.num_heads = config.num_heads;
  parts_.head_dim = config.head_dim;
  parts_.activation = config.activation;
  SetEncoderDropout(parts_, config);
  const auto attention = Group(*this, "attention");
  const auto self = Group(*attention, "self");
  parts_.query = self->register_module("query", MakeLinear(width, width, true));
  parts_.key = self->register_module("key", MakeLinear(width, width, true));
  parts_.value = self->register_module("value", MakeLinear(width, width, true));
  const auto attention_output = Group(*attention, "output");
  parts_.attention_out =
      attention_output->register_module("dense", MakeLinear(width, width, true));
  parts_.attention_norm =
      attention_output->register_module("LayerNorm", MakeLayerNorm(width, config.norm_eps));
  const auto intermediate = Group(*this, "intermediate");
  parts_.inner = intermediate->register_module(
      "dense", MakeLinear(width, config.intermediate_size, true));
  const auto output = Group(*this, "output");
  parts_.outer =
      output->register_module("dense", MakeLinear(config.intermediate_size, width, true));
  parts_.output_norm = output->register_module("LayerNorm", MakeLayerNorm(width, config.norm_eps));
}

torch::Tensor BertLayerImpl::BlockForward(const torch::Tensor& hidden,
                                          const std::vector<torch::Tensor>& context) {
  return PostNormEncoderForward(parts_, hidden, context[0],
                                context.size() > 1 ? context[1] : torch::Tensor(), is_training());
}

BertForSequenceClassificationImpl::BertForSequenceClassificationImpl(const ModelConfig& config,
                                                                     int64_t num_labels)
    : config_(config), num_labels_(num_labels), roberta_(config.family == ModelFamily::kRoberta) {
  TORCH_CHECK(num_labels >= 1, "num_labels must be at least 1, got ", num_labels);
  const TransformerConfig& c = config.transformer;
  const auto base = Group(*this, roberta_ ? "roberta" : "bert");
  const auto embeddings = Group(*base, "embeddings");
  word_embeddings_ = embeddings->register_module(
      "word_embeddings", torch::nn::Embedding(c.vocab_size, c.hidden_size));
  position_embeddings_ = embeddings->register_module(
      "position_embeddings", torch::nn::Embedding(c.max_positions, c.hidden_size));
  token_type_embeddings_ = embeddings->register_module(
      "token_type_embeddings", torch::nn::Embedding(c.type_vocab_size, c.hidden_size));
  embeddings_norm_ = embeddings->register_module("LayerNorm", MakeLayerNorm(c.hidden_size, c.norm_eps));
  const auto encoder = Group(*base, "encoder");
  layers_ = encoder->register_module("layer", torch::nn::ModuleList());
  for (int64_t layer = 0; layer < c.num_layers; ++layer) {
    layers_->push_back(Settled(BertLayer(c)));
  }
  if (roberta_) {
    const auto classifier = Group(*this, "classifier");
    classifier_dense_ =
        classifier->register_module("dense", MakeLinear(c.hidden_size, c.hidden_size, true));
    out_proj_ =
        classifier->register_module("out_proj", MakeLinear(c.hidden_size, num_labels, true));
  } else {
    const auto pooler = Group(*base, "pooler");
    pooler_dense_ = pooler->register_module("dense", MakeLinear(c.hidden_size, c.hidden_size, true));
    classifier_ = register_module("classifier", MakeLinear(c.hidden_size, num_labels, true));
  }
  InitializeHfWeights(*this, c.initializer_range);
}

std::vector<std::string> BertForSequenceClassificationImpl::HeadParameterNames() const {
  if (roberta_) {
    return {"classifier.dense.weight", "classifier.dense.bias", "classifier.out_proj.weight",
            "classifier.out_proj.bias"};
  }
  return {"classifier.weight", "classifier.bias"};
}

std::vector<std::string> BertForSequenceClassificationImpl::OptionalParameterNames() const {
  if (roberta_) return {};
  return {"bert.pooler.dense.weight", "bert.pooler.dense.bias"};
}

torch::Tensor BertForSequenceClassificationImpl::forward(const torch::Tensor& input_ids,
                                                         const torch::Tensor& attention_mask) {
  const int64_t seq = input_ids.size(1);
  const int64_t pad = config_.transformer.pad_token_id;
  // The largest position id: seq - 1 for BERT, pad + seq for RoBERTa (at most).
  const int64_t largest = roberta_ ? pad + seq : seq - 1;
  TORCH_CHECK(largest < position_embeddings_->weight.size(0), "a sequence of ", seq,
              " tokens needs more than max_position_embeddings ",
              position_embeddings_->weight.size(0));
  torch::Tensor positions;
  if (roberta_) {
    const torch::Tensor real = (input_ids != pad).to(torch::kInt64);
    positions = real.cumsum(1) * real + pad;
  } else {
    positions = torch::arange(seq, input_ids.options().dtype(torch::kInt64)).unsqueeze(0);
  }
  // token_type_ids are all 0 (one segment).
  const torch::Tensor embedded = word_embeddings_(input_ids) + position_embeddings_(positions) +
                                 token_type_embeddings_->weight[0];
  const TransformerConfig& c = config_.transformer;
  const bool training = is_training();
  const torch::Tensor hidden = Dropout(embeddings_norm_(embedded), c.embedding_dropout, training);
  const torch::Tensor first = EncodeFirstToken(layers_, hidden, attention_mask, checkpointing_);
  const double head_dropout = c.classifier_dropout;
  if (roberta_) {
    const torch::Tensor dense =
        torch::tanh(classifier_dense_(Dropout(first, head_dropout, training)));
    return out_proj_(Dropout(dense, head_dropout, training));
  }
  return classifier_(Dropout(torch::tanh(pooler_dense_(first)), head_dropout, training));
}

std::string BertForSequenceClassificationImpl::HfConfigJson(
    const std::vector<std::string>& label_names) const {
  return ExportedConfigJson(config_, label_names);
}

}  // namespace ft::models
