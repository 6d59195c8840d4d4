#include "worker/models/model_loader.h"

#include <torch/types.h>
#include <torch/utils.h>

#include <algorithm>
#include <memory>
#include <set>
#include <stdexcept>

#include "common/models/vocab_size.h"
#include "common/tokenize/byte_tokenizer.h"
#include "worker/io/checkpoint_tensors.h"
#include "worker/models/bert_model.h"
#include "worker/models/bloom_model.h"
#include "worker/models/causal_lm.h"
#include "worker/models/distilbert_model.h"
#include "worker/models/gpt2_model.h"
#include "worker/models/llama_model.h"
#include "worker/models/torchscript_model.h"

namespace ft::models {
namespace {

static_assert(tokenize::ByteTokenizer::kVocabSize == kByteTokenizerVocabSize,
              "the model folder check and the tokenizer must agree on the vocabulary");

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    text += (i > 0 ? ", " : "") + std::to_string(shape[i]);
  }
  return text + "]";
}

bool StartsWith(const std::string& text, const std::string& prefix) {
  return !prefix.empty() && text.compare(0, prefix.size(), prefix) == 0;
}

bool EndsWith(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The names under which a checkpoint may hold one of our parameters: the same name, without the
// base model's prefix, and the old LayerNorm.gamma/beta spellings of both.
std::vector<std::string> Candidates(const std::string& name, const std::string& prefix) {
  std::vector<std::string> names = {name};
  if (StartsWith(name, prefix)) names.push_back(name.substr(prefix.size()));
  const std::size_t count = names.size();
  for (std::size_t i = 0; i < count; ++i) {
    const std::string& base = names[i];
    if (EndsWith(base, "LayerNorm.weight")) {
      names.push_back(base.substr(0, base.size() - 6) + "gamma");
    } else if (EndsWith(base, "LayerNorm.bias")) {
      names.push_back(base.substr(0, base.size() - 4) + "beta");
    }
  }
  return names;
}

const io::CheckpointTensor* FindTensor(const io::CheckpointTensors& checkpoint,
                                       const std::string& name, const std::string& prefix) {
  for (const std::string& candidate : Candidates(name, prefix)) {
    if (const io::CheckpointTensor* found = checkpoint.Find(candidate)) return found;
  }
  return nullptr;
}

// Why the checkpoint's head cannot be used ("" when it can): a head tensor is missing, or has
// another number of labels (any other difference in shape is an error, found later).
std::string FreshHeadReason(const io::CheckpointTensors& checkpoint, TrainableModelImpl& model) {
  const auto parameters = model.named_parameters();
  for (const std::string& name : model.HeadParameterNames()) {
    const torch::Tensor* parameter = parameters.find(name);
    if (parameter == nullptr) continue;
    const io::CheckpointTensor* found = FindTensor(checkpoint, name, model.BaseModelPrefix());
    if (found == nullptr) return " has no " + name;
    const std::vector<int64_t> expected = parameter->sizes().vec();
    const std::vector<int64_t>& shape = found->shape();
    if (model.task() == ModelTask::kSequenceClassification && !expected.empty() &&
        expected[0] == model.num_labels() &&
        shape.size() == expected.size() && shape[0] != expected[0] &&
        std::equal(shape.begin() + 1, shape.end(), expected.begin() + 1)) {
      return ": " + name + " has " + std::to_string(shape[0]) + " labels, the dataset " +
             std::to_string(model.num_labels());
    }
  }
  return "";
}

// A family's module holder as the family-neutral one (the same module).
template <typename Holder>
TrainableModel AsClassifier(const Holder& holder) {
  return TrainableModel(std::shared_ptr<TrainableModelImpl>(holder.ptr()));
}

TrainableModel BuildCausalLm(const ModelConfig& config) {
  switch (config.family) {
    case ModelFamily::kBloom: return AsClassifier(BloomForCausalLm(config));
    case ModelFamily::kGpt2: return AsClassifier(Gpt2LmHeadModel(config));
    case ModelFamily::kLlama: return AsClassifier(LlamaForCausalLm(config));
    default:
      throw std::runtime_error("task causal_lm needs a decoder model (bloom, gpt2, llama, "
                               "mistral, qwen2); " + std::string(FamilyName(config.family)) +
                               " is not one");
  }
}

}  // namespace

TrainableModel BuildArchitecture(const ModelConfig& config, int64_t num_labels, ModelTask task) {
  if (task == ModelTask::kCausalLm) return BuildCausalLm(config);
  switch (config.family) {
    case ModelFamily::kBloom:
      return AsClassifier(BloomForSequenceClassification(config.bloom, num_labels));
    case ModelFamily::kGpt2:
      return AsClassifier(Gpt2ForSequenceClassification(config, num_labels));
    case ModelFamily::kBert:
    case ModelFamily::kRoberta:
      return AsClassifier(BertForSequenceClassification(config, num_labels));
    case ModelFamily::kDistilBert:
      return AsClassifier(DistilBertForSequenceClassification(config, num_labels));
    case ModelFamily::kLlama:
      return AsClassifier(LlamaForSequenceClassification(config, num_labels));
    case ModelFamily::kTorchScript:
      return AsClassifier(LoadTorchScriptClassifier(config.source, num_labels));
  }
  throw std::runtime_error("unknown model family");
}

TrainableModel BuildModel(const ModelConfig& config, int64_t num_labels, const ModelLog& log,
                          ModelTask task) {
  TrainableModel classifier = BuildArchitecture(config, num_labels, task);
  if (config.family == ModelFamily::kTorchScript) {
    log("info", "loaded the TorchScript module " + config.source + " (" +
                    std::to_string(classifier->parameters().size()) + " parameters tensors)");
    return classifier;
  }
  if (!config.source.empty()) {
    LoadCheckpointWeights(*classifier, config.source, log);
    const int64_t vocab_size = VocabSize(config);
    if (vocab_size != kByteTokenizerVocabSize) {
      log("warning", "the byte-level tokenizer uses ids 0.." +
                         std::to_string(kByteTokenizerVocabSize - 1) + " of the checkpoint's " +
                         std::to_string(vocab_size) +
                         "-token vocabulary; its own tokenizer is not supported yet");
    }
  }
  return classifier;
}

void LoadCheckpointWeights(TrainableModelImpl& model, const std::string& folder,
                           const ModelLog& log) {
  std::unique_ptr<io::CheckpointTensors> checkpoint;
  try {
    checkpoint = io::CheckpointTensors::Open(folder);
  } catch (const std::runtime_error& error) {  // SafetensorsError, torchsave::TorchSaveError
    throw std::runtime_error(std::string("reading the checkpoint: ") + error.what());
  }
  const std::string& where = checkpoint->description();
  const std::string prefix = model.BaseModelPrefix();
  const std::vector<std::string> head = model.HeadParameterNames();
  const std::string fresh_head = FreshHeadReason(*checkpoint, model);
  const bool use_head = fresh_head.empty();
  if (!use_head) {
    log("info", where + fresh_head +
                    (model.task() == ModelTask::kCausalLm
                         ? std::string(": initialised a fresh LM head (seeded)")
                         : ": initialised a fresh classification head for " +
                               std::to_string(model.num_labels()) + " labels (seeded)"));
  }
  const std::vector<std::string> optional = model.OptionalParameterNames();
  torch::NoGradGuard no_grad;
  std::set<std::string> used;
  int64_t loaded = 0;
  for (auto& item : model.named_parameters(/*recurse=*/true)) {
    const std::string& name = item.key();
    torch::Tensor& parameter = item.value();
    const io::CheckpointTensor* found = FindTensor(*checkpoint, name, prefix);
    if (std::find(head.begin(), head.end(), name) != head.end() && !use_head) {
      if (found != nullptr) used.insert(found->name());  // seen, deliberately not used
      continue;
    }
    if (found == nullptr &&
        std::find(optional.begin(), optional.end(), name) != optional.end()) {
      log("info", where + " has no " + name + ": initialised it fresh (seeded)");
      continue;
    }
    if (found == nullptr) {
      std::string tried;
      for (const std::string& candidate : Candidates(name, prefix)) {
        tried += (tried.empty() ? "'" : ", '") + candidate + "'";
      }
      throw std::runtime_error(where + ": no tensor " + tried +
                               ", which the configuration needs");
    }
    if (found->shape() != parameter.sizes().vec()) {
      throw std::runtime_error(found->path() + ": tensor '" + found->name() + "' has shape " +
                               ShapeText(found->shape()) +
                               ", config.json implies " + ShapeText(parameter.sizes().vec()));
    }
    // A block already held in bfloat16 (block_dtype.h) reads through a float32 buffer of one
    // tensor and is rounded by the cast a whole-model conversion would use.
    const bool direct = parameter.is_contiguous() &&
                        parameter.scalar_type() == torch::kFloat32 && parameter.device().is_cpu();
    torch::Tensor target =
        direct ? parameter : torch::empty(parameter.sizes(), torch::dtype(torch::kFloat32));
    try {
      found->ReadAsFloat32(target.data_ptr<float>());
    } catch (const std::runtime_error& error) {  // SafetensorsError, torchsave::TorchSaveError
      throw std::runtime_error(std::string("reading the checkpoint: ") + error.what());
    }
    if (!direct) parameter.copy_(target);
    used.insert(found->name());
    ++loaded;
  }
  std::string unused;
  int64_t unused_count = 0;
  for (const std::string& name : checkpoint->Names()) {
    if (used.count(name) > 0) continue;
    if (++unused_count <= 3) unused += (unused.empty() ? "" : ", ") + name;
  }
  std::string message = "loaded " + std::to_string(loaded) + " tensors from " + where;
  if (unused_count > 0) {
    message += "; " + std::to_string(unused_count) + " tensors of the checkpoint are not used (" +
               unused + (unused_count > 3 ? ", ..." : "") + ")";
  }
  log("info", message);
}

}  // namespace ft::models
