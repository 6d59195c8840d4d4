#include "worker/generate/causal_lm_folder.h"

#include <torch/types.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <limits>
#include <stdexcept>
#include <thread>
#include <utility>

#include "common/models/end_of_sequence.h"
#include "common/models/model_folder.h"
#include "worker/adapters/lora_model.h"
#include "worker/adapters/peft_folder.h"
#include "worker/data/job_tokenizer.h"
#include "worker/data/lm_data.h"
#include "worker/generate/greedy_generate.h"
#include "worker/models/model_loader.h"
#include "worker/train/compute_threads.h"

namespace ft::generate {
namespace {

bool IsCausalLmArchitecture(const std::string& name) {
  const std::string suffix = "ForCausalLM";
  return name == "GPT2LMHeadModel" ||
         (name.size() > suffix.size() &&
          name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0);
}

// Refuses a folder whose config.json names an architecture other than a causal LM: an exported
// classifier has the same weights' names for its base model, and would load without complaint.
void CheckArchitecture(const std::filesystem::path& config_file) {
  std::ifstream in(config_file);
  const nlohmann::json json = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  const auto found = json.is_object() ? json.find("architectures") : json.end();
  if (found == json.end() || !found->is_array() || found->empty() || !(*found)[0].is_string()) {
    throw std::runtime_error(config_file.string() +
                             ": architectures is missing; expected a causal LM (*ForCausalLM "
                             "or GPT2LMHeadModel), as a causal_lm job exports");
  }
  const std::string architecture = (*found)[0].get<std::string>();
  if (!IsCausalLmArchitecture(architecture)) {
    throw std::runtime_error(config_file.string() + ": architectures is [\"" + architecture +
                             "\"], not a causal LM (*ForCausalLM or GPT2LMHeadModel); generation "
                             "needs the folder of a causal_lm job, not a classifier's");
  }
}

// A PEFT adapter folder (a LoRA causal_lm job's output, or PEFT's own) stands for its base model
// with the adapter on top: the base folder, from base_model_name_or_path.
std::string BaseOfAdapter(const std::string& folder) {
  const adapters::AdapterIdentity identity = adapters::ReadAdapterIdentity(folder);
  const std::string config = folder + "/" + adapters::kAdapterConfigFile;
  if (!identity.task_type.empty() && identity.task_type != "CAUSAL_LM") {
    throw std::runtime_error(config + ": task_type is " + identity.task_type +
                             ", not CAUSAL_LM; generation needs a causal_lm job's adapter");
  }
  if (identity.base_model.empty() || !std::filesystem::is_directory(identity.base_model)) {
    throw std::runtime_error(config + ": base_model_name_or_path '" + identity.base_model +
                             "' is not a local model folder");
  }
  return identity.base_model;
}

bool IsAdapterFolder(const std::string& folder) {
  return std::filesystem::is_regular_file(std::filesystem::path(folder) /
                                          adapters::kAdapterConfigFile) &&
         !std::filesystem::is_regular_file(std::filesystem::path(folder) /
                                           models::kModelConfigFile);
}

}  // namespace

struct CausalLmFolder::State {
  models::TrainableModel model{nullptr};
  models::CausalLmImpl* causal_lm = nullptr;
  train::JobTokenizer tokenizer;
  std::optional<int64_t> eos_id;
};

CausalLmFolder::CausalLmFolder(std::unique_ptr<State> state) : state_(std::move(state)) {}
CausalLmFolder::~CausalLmFolder() = default;

std::unique_ptr<CausalLmFolder> CausalLmFolder::Open(
    const std::string& folder, int threads,
    const std::function<void(const std::string&, const std::string&)>& log) {
  if (IsAdapterFolder(folder)) return OpenWithAdapter(BaseOfAdapter(folder), folder, threads, log);
  return OpenWithAdapter(folder, "", threads, log);
}

std::unique_ptr<CausalLmFolder> CausalLmFolder::OpenWithAdapter(
    const std::string& folder, const std::string& adapter, int threads,
    const std::function<void(const std::string&, const std::string&)>& log) {
  std::error_code error;
  if (!std::filesystem::is_directory(folder, error)) {
    throw std::runtime_error(folder + ": no such folder (give the output folder of a causal_lm "
                             "job: config.json, model.safetensors, tokenizer.json)");
  }
  const std::filesystem::path config_file =
      std::filesystem::path(folder) / models::kModelConfigFile;
  if (!std::filesystem::is_regular_file(config_file, error)) {
    throw std::runtime_error(config_file.string() + ": no such file; " + folder +
                             " is not a model folder");
  }
  CheckArchitecture(config_file);
  const models::ModelConfig config = models::ReadModelFolderConfig(folder);
  train::SetComputeThreads(
      threads > 0 ? threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));

  auto state = std::make_unique<State>();
  state->tokenizer = train::JobTokenizer::ForModel(folder);
  state->tokenizer.Load();
  state->eos_id = models::EosTokenId(config);
  const models::ModelLog model_log = [&log](const std::string& level, const std::string& text) {
    if (log) log(level, text);
  };
  try {
    state->model = models::BuildModel(config, 0, model_log, models::ModelTask::kCausalLm);
    if (!adapter.empty()) {
      adapters::LoraOptions options = adapters::ReadAdapterConfig(adapter, {});
      options.enabled = true;
      adapters::ApplyLora(*state->model, config.family, options);
      adapters::LoadPeftAdapterWeights(*state->model, adapter);
    }
  } catch (const c10::Error& torch_error) {
    throw std::runtime_error(folder + ": building the model: " + torch_error.what_without_backtrace());
  }
  state->causal_lm = dynamic_cast<models::CausalLmImpl*>(state->model.get());
  state->model->eval();
  return std::unique_ptr<CausalLmFolder>(new CausalLmFolder(std::move(state)));
}

std::vector<int64_t> CausalLmFolder::Encode(const std::string& text,
                                            bool add_special_tokens) const {
  // Untruncated: the model's positions bound the prompt (GreedyGenerate stops there).
  return state_->tokenizer.Encode(text, std::numeric_limits<int32_t>::max(), add_special_tokens);
}

std::string CausalLmFolder::Complete(const std::string& text, bool add_special_tokens,
                                     int64_t max_new_tokens) const {
  const std::vector<int64_t> prompt = Encode(text, add_special_tokens);
  if (prompt.empty()) throw std::runtime_error("the prompt encodes to no tokens");
  std::vector<int64_t> completion;
  try {
    completion = GreedyGenerate(*state_->causal_lm, prompt, max_new_tokens, state_->eos_id);
  } catch (const c10::Error& torch_error) {
    throw std::runtime_error(std::string("generating: ") + torch_error.what_without_backtrace());
  }
  if (!completion.empty() && state_->eos_id && completion.back() == *state_->eos_id) {
    completion.pop_back();
  }
  return state_->tokenizer.Decode(completion);
}

std::optional<int64_t> CausalLmFolder::eos_id() const { return state_->eos_id; }

}  // namespace ft::generate
