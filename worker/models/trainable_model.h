// The family-neutral model the training core works with: a sequence classifier (BLOOM, GPT-2,
// BERT, RoBERTa, DistilBERT, Llama-style and TorchScript models, each with the semantics and
// parameter names of the matching Hugging Face *ForSequenceClassification class) or a causal
// language model (BLOOM, GPT-2 and Llama-style decoders as their *ForCausalLM / GPT2LMHeadModel).
// Include only from Torch translation units.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace ft::models {

enum class ModelTask {
  kSequenceClassification,  // logits [batch, num_labels] from each row's last real token
  kCausalLm,                // logits [batch, seq, vocab]: position t predicts token t + 1
};

class TrainableModelImpl : public torch::nn::Module {
 public:
  // input_ids, attention_mask: [batch, seq] int64 (mask 1 = token, 0 = padding; right padding).
  // Returns the logits: [batch, num_labels] or, for a causal LM, [batch, seq, vocab].
  virtual torch::Tensor forward(const torch::Tensor& input_ids,
                                const torch::Tensor& attention_mask) = 0;

  // forward() of packed rows (worker/data/packing.h): several examples end to end in a row,
  // numbered 1, 2, ... in the attention mask (0 = padding), each attending and positioned as if
  // it were alone. Only causal LMs train on packed rows.
  virtual torch::Tensor ForwardPacked(const torch::Tensor& /*input_ids*/,
                                      const torch::Tensor& /*attention_mask*/) {
    throw std::logic_error("this model does not take packed rows");
  }

  virtual ModelTask task() const { return ModelTask::kSequenceClassification; }

  // The width of the logits' last dimension: the classes, or a causal LM's vocabulary.
  virtual int64_t num_labels() const = 0;

  // On: while gradients are recorded, each transformer block keeps only its input and recomputes
  // its activations in the backward pass (activation_checkpoint.h). A model without blocks to
  // checkpoint (TorchScript) ignores it.
  virtual void set_activation_checkpointing(bool on) = 0;

  // The prefix of the base model's parameter names ("transformer.", "model.", "bert."), which
  // checkpoints of the base model alone (BloomModel, LlamaModel, ...) do not have.
  virtual std::string BaseModelPrefix() const = 0;

  // Parameters of the task head (a classifier's score layer, BERT's pooler, an untied LM head):
  // a checkpoint without them, or with a classification head for another number of labels,
  // keeps the fresh ones, as from_pretrained(num_labels=N) does.
  virtual std::vector<std::string> HeadParameterNames() const = 0;

  // Parameters that a checkpoint may lack without being broken (BERT's pooler, which BertModel
  // checkpoints saved without it lack): they keep their fresh values, with a log line.
  virtual std::vector<std::string> OptionalParameterNames() const { return {}; }

  // The config.json of the exported Hugging Face folder (architectures, model_type, the
  // family's shaping fields; a classifier's id2label and label2id).
  virtual std::string HfConfigJson(const std::vector<std::string>& label_names) const = 0;
};

TORCH_MODULE(TrainableModel);

}  // namespace ft::models
