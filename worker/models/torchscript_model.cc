#include "worker/models/torchscript_model.h"

#include <torch/utils.h>

#include <stdexcept>

#include "worker/models/hf_export_config.h"

namespace ft::models {
namespace {

std::string ShapeText(const torch::Tensor& tensor) {
  std::string text = "[";
  for (int64_t i = 0; i < tensor.dim(); ++i) {
    text += (i > 0 ? ", " : "") + std::to_string(tensor.size(i));
  }
  return text + "]";
}

std::string RegisteredName(std::string name) {
  std::string out;
  for (char c : name) out += c == '.' ? std::string("__") : std::string(1, c);
  return out;
}

}  // namespace

TorchScriptClassifierImpl::TorchScriptClassifierImpl(torch::jit::Module module, int64_t num_labels,
                                                     std::string path)
    : module_(std::move(module)), num_labels_(num_labels), path_(std::move(path)) {
  for (const auto& parameter : module_.named_parameters(/*recurse=*/true)) {
    register_parameter(RegisteredName(parameter.name), parameter.value,
                       parameter.value.requires_grad());
  }
}

torch::Tensor TorchScriptClassifierImpl::forward(const torch::Tensor& input_ids,
                                                 const torch::Tensor& attention_mask) {
  return module_.forward({input_ids, attention_mask}).toTensor();
}

std::string TorchScriptClassifierImpl::HfConfigJson(
    const std::vector<std::string>& label_names) const {
  nlohmann::ordered_json json;
  json["architectures"] = {"TorchScriptModule"};
  json["model_type"] = "torchscript";
  json["torchscript_file"] = "model.pt";
  json["source"] = path_;
  SetLabelMaps(json, label_names);
  return json.dump(2) + "\n";
}

// The registered parameters are the module's own tensors: moving the module (set_data on each)
// moves them too.
void TorchScriptClassifierImpl::to(torch::Device device, torch::Dtype dtype, bool non_blocking) {
  module_.to(device, dtype, non_blocking);
}

void TorchScriptClassifierImpl::to(torch::Dtype dtype, bool non_blocking) {
  module_.to(dtype, non_blocking);
}

void TorchScriptClassifierImpl::to(torch::Device device, bool non_blocking) {
  module_.to(device, non_blocking);
}

void TorchScriptClassifierImpl::train(bool on) {
  torch::nn::Module::train(on);
  module_.train(on);
}

void TorchScriptClassifierImpl::Save(const std::string& path) { module_.save(path); }

TorchScriptClassifier LoadTorchScriptClassifier(const std::string& path, int64_t num_labels) {
  torch::jit::Module module;
  try {
    module = torch::jit::load(path, torch::kCPU);
  } catch (const c10::Error& error) {
    throw std::runtime_error(path + ": not a loadable TorchScript module: " +
                             error.what_without_backtrace());
  }
  if (!module.find_method("forward")) throw std::runtime_error(path + ": has no forward method");
  TorchScriptClassifier classifier(std::move(module), num_labels, path);
  torch::Tensor logits;
  try {
    torch::NoGradGuard no_grad;
    const torch::Tensor ids = torch::full({1, 2}, 4, torch::kInt64);
    const torch::Tensor mask = torch::ones({1, 2}, torch::kInt64);
    logits = classifier->forward(ids, mask);
  } catch (const c10::Error& error) {
    throw std::runtime_error(path + ": forward(input_ids [1, 2] int64, attention_mask [1, 2] "
                             "int64) failed: " + error.what_without_backtrace());
  }
  if (logits.dim() != 2 || logits.size(0) != 1 || logits.size(1) != num_labels ||
      !logits.is_floating_point()) {
    throw std::runtime_error(path + ": forward(input_ids, attention_mask) of one row returned " +
                             ShapeText(logits) + " " + std::string(c10::toString(logits.scalar_type())) +
                             ", expected float logits [1, " + std::to_string(num_labels) +
                             "] for the dataset's " + std::to_string(num_labels) + " labels");
  }
  return classifier;
}

}  // namespace ft::models
