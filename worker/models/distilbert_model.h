// Native LibTorch implementation of Hugging Face's DistilBertForSequenceClassification:
// word + learned position embeddings, post-LayerNorm layers (attention.{q,k,v,out}_lin,
// sa_layer_norm, ffn.lin1/lin2, output_layer_norm), and the first token through
// pre_classifier + ReLU + classifier. Parameter names equal Hugging Face's
// ("distilbert.transformer.layer.0.attention.q_lin.weight"). Include only from Torch translation
// units.
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

class DistilBertLayerImpl : public torch::nn::Module, public CheckpointableBlock {
 public:
  explicit DistilBertLayerImpl(const TransformerConfig& config);
  // context: {blocked} or {blocked, output_positions} (see RunBlocks).
  torch::Tensor BlockForward(const torch::Tensor& hidden,
                             const std::vector<torch::Tensor>& context) override;

 private:
  PostNormEncoderParts parts_;
};
TORCH_MODULE(DistilBertLayer);

class DistilBertForSequenceClassificationImpl : public TrainableModelImpl {
 public:
  DistilBertForSequenceClassificationImpl(const ModelConfig& config, int64_t num_labels);

  torch::Tensor forward(const torch::Tensor& input_ids,
                        const torch::Tensor& attention_mask) override;
  int64_t num_labels() const override { return num_labels_; }
  void set_activation_checkpointing(bool on) override { checkpointing_ = on; }
  std::string BaseModelPrefix() const override { return "distilbert."; }
  std::vector<std::string> HeadParameterNames() const override {
    return {"pre_classifier.weight", "pre_classifier.bias", "classifier.weight",
            "classifier.bias"};
  }
  std::string HfConfigJson(const std::vector<std::string>& label_names) const override;

 private:
  ModelConfig config_;
  int64_t num_labels_;
  bool checkpointing_ = false;
  torch::nn::Embedding word_embeddings_{nullptr};
  torch::nn::Embedding position_embeddings_{nullptr};
  torch::nn::LayerNorm embeddings_norm_{nullptr};
  torch::nn::ModuleList layers_{nullptr};
  adapters::AdaptableLinear pre_classifier_{nullptr};
  adapters::AdaptableLinear classifier_{nullptr};
};
TORCH_MODULE(DistilBertForSequenceClassification);

}  // namespace ft::models
