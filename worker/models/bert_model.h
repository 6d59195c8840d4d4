// Native LibTorch implementations of Hugging Face's BertForSequenceClassification and
// RobertaForSequenceClassification: post-LayerNorm encoder layers, word + position + token type
// (zeros) embeddings, and the first token pooled: BERT through its pooler (dense + tanh) and a
// linear "classifier", RoBERTa through "classifier.dense" + tanh + "classifier.out_proj".
// RoBERTa's position ids count the non-padding tokens (input_ids != pad_token_id) from
// pad_token_id + 1, as Hugging Face's create_position_ids_from_input_ids. Parameter names equal
// Hugging Face's ("bert.encoder.layer.0.attention.self.query.weight"). Include only from Torch
// translation units.
#pragma once

#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/normalization.h>

#include "common/models/model_config.h"
#include "worker/adapters/adaptable_linear.h"
#include "worker/models/activation_checkpoint.h"
#include "worker/models/post_norm_encoder.h"
#include "worker/models/trainable_model.h"
#include "worker/models/transformer_parts.h"

namespace ft::models {

// One post-LayerNorm encoder layer under Hugging Face's names: attention.self.{query,key,value},
// attention.output.{dense,LayerNorm}, intermediate.dense, output.{dense,LayerNorm}.
class BertLayerImpl : public torch::nn::Module, public CheckpointableBlock {
 public:
  explicit BertLayerImpl(const TransformerConfig& config);
  // context: {blocked} or {blocked, output_positions} (see RunBlocks).
  torch::Tensor BlockForward(const torch::Tensor& hidden,
                             const std::vector<torch::Tensor>& context) override;

 private:
  PostNormEncoderParts parts_;
};
TORCH_MODULE(BertLayer);

class BertForSequenceClassificationImpl : public TrainableModelImpl {
 public:
  // config.family kBert or kRoberta.
  BertForSequenceClassificationImpl(const ModelConfig& config, int64_t num_labels);

  torch::Tensor forward(const torch::Tensor& input_ids,
                        const torch::Tensor& attention_mask) override;
  int64_t num_labels() const override { return num_labels_; }
  void set_activation_checkpointing(bool on) override { checkpointing_ = on; }
  std::string BaseModelPrefix() const override { return roberta_ ? "roberta." : "bert."; }
  std::vector<std::string> HeadParameterNames() const override;
  std::vector<std::string> OptionalParameterNames() const override;
  std::string HfConfigJson(const std::vector<std::string>& label_names) const override;

 private:
  ModelConfig config_;
  int64_t num_labels_;
  bool roberta_;
  bool checkpointing_ = false;
  torch::nn::Embedding word_embeddings_{nullptr};
  torch::nn::Embedding position_embeddings_{nullptr};
  torch::nn::Embedding token_type_embeddings_{nullptr};
  torch::nn::LayerNorm embeddings_norm_{nullptr};
  torch::nn::ModuleList layers_{nullptr};
  adapters::AdaptableLinear pooler_dense_{nullptr};      // BERT
  adapters::AdaptableLinear classifier_{nullptr};        // BERT
  adapters::AdaptableLinear classifier_dense_{nullptr};  // RoBERTa
  adapters::AdaptableLinear out_proj_{nullptr};          // RoBERTa
};
TORCH_MODULE(BertForSequenceClassification);

}  // namespace ft::models
