#include "worker/output/model_export.h"

#include <torch/types.h>

#include <filesystem>

#include "common/util/atomic_file.h"
#include "worker/io/safetensors_writer.h"
#include "worker/models/hf_export_config.h"
#include "worker/models/torchscript_model.h"

namespace ft::train {

void WriteNamedSafetensors(const std::vector<std::pair<std::string, torch::Tensor>>& tensors,
                           const std::string& path) {
  std::vector<torch::Tensor> host_tensors;  // keep the CPU copies alive while writing
  std::vector<io::Float32TensorView> views;
  for (const auto& [name, value] : tensors) {
    torch::Tensor tensor = value.detach().to(torch::kCPU, torch::kFloat32).contiguous();
    io::Float32TensorView view;
    view.name = name;
    view.shape = tensor.sizes().vec();
    view.data = tensor.data_ptr<float>();
    host_tensors.push_back(std::move(tensor));
    views.push_back(std::move(view));
  }
  io::WriteSafetensors(path, std::move(views));
}

void WriteModelSafetensors(torch::nn::Module& model, const std::string& path) {
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  for (const auto& item : model.named_parameters(/*recurse=*/true)) {
    tensors.emplace_back(item.key(), item.value());
  }
  WriteNamedSafetensors(tensors, path);
}

namespace {

void WriteConfigFiles(models::TrainableModelImpl& model,
                      const std::vector<std::string>& label_names,
                      const std::filesystem::path& dir) {
  const std::string config = model.HfConfigJson(label_names);
  WriteFileAtomically((dir / "config.json").string(), config);
  if (model.task() == models::ModelTask::kCausalLm) {
    WriteFileAtomically((dir / "generation_config.json").string(),
                        models::GenerationConfigJson(config));
  }
}

}  // namespace

void WriteModelFolder(models::TrainableModelImpl& model,
                      const std::vector<std::string>& label_names, int64_t max_seq_length,
                      const std::string& output_dir) {
  const std::filesystem::path dir(output_dir);
  std::filesystem::create_directories(dir);
  if (auto* script = dynamic_cast<models::TorchScriptClassifierImpl*>(&model)) {
    script->Save((dir / "model.pt").string());  // a TorchScript model stays one
  } else {
    WriteModelSafetensors(model, (dir / "model.safetensors").string());
  }
  WriteConfigFiles(model, label_names, dir);
}

void WriteModelFolder(models::TrainableModelImpl& model,
                      const std::vector<std::string>& label_names, int64_t max_seq_length,
                      const std::string& output_dir,
                      const std::vector<std::pair<std::string, torch::Tensor>>& tensors) {
  const std::filesystem::path dir(output_dir);
  std::filesystem::create_directories(dir);
  WriteNamedSafetensors(tensors, (dir / "model.safetensors").string());
  WriteConfigFiles(model, label_names, dir);
}

}  // namespace ft::train
