// LoRA on every family (worker/adapters): an attached update leaves the outputs bit-identical
// until trained, only the updates and a classifier's head train, the merged weights give the
// unmerged model's outputs, unknown targets are refused, a bf16 base holds bf16 weights, and a
// PEFT adapter folder round-trips.
#include "worker/adapters/lora_model.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <ostream>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "common/models/hf_config.h"
#include "common/models/lora_targets.h"
#include "tests/support/temp_dir.h"
#include "worker/adapters/lora_layer.h"
#include "worker/adapters/peft_folder.h"
#include "worker/io/safetensors_writer.h"
#include "worker/models/block_dtype.h"
#include "worker/models/model_loader.h"

namespace ft::adapters {
namespace {

using models::ModelConfig;
using models::ModelTask;
using models::TrainableModel;

struct FamilyCase {
  const char* name;
  const char* config_json;
  ModelTask task;
};

const FamilyCase kCases[] = {
    {"bloom", R"({"model_type": "bloom", "vocab_size": 300, "n_embed": 16, "n_layer": 2,
                  "n_head": 2})",
     ModelTask::kSequenceClassification},
    {"bloom_lm", R"({"model_type": "bloom", "vocab_size": 300, "n_embed": 16, "n_layer": 2,
                     "n_head": 2})",
     ModelTask::kCausalLm},
    {"gpt2", R"({"model_type": "gpt2", "vocab_size": 300, "n_embd": 16, "n_layer": 2,
                 "n_head": 2})",
     ModelTask::kSequenceClassification},
    {"gpt2_lm", R"({"model_type": "gpt2", "vocab_size": 300, "n_embd": 16, "n_layer": 2,
                    "n_head": 2})",
     ModelTask::kCausalLm},
    {"llama", R"({"model_type": "llama", "vocab_size": 300, "hidden_size": 16,
                  "num_hidden_layers": 2, "num_attention_heads": 2, "num_key_value_heads": 1,
                  "intermediate_size": 32})",
     ModelTask::kSequenceClassification},
    {"qwen2_lm", R"({"model_type": "qwen2", "vocab_size": 300, "hidden_size": 16,
                     "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 32})",
     ModelTask::kCausalLm},
    {"bert", R"({"model_type": "bert", "vocab_size": 300, "hidden_size": 16,
                 "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 32})",
     ModelTask::kSequenceClassification},
    {"roberta", R"({"model_type": "roberta", "vocab_size": 300, "hidden_size": 16,
                    "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 32,
                    "max_position_embeddings": 40, "pad_token_id": 1})",
     ModelTask::kSequenceClassification},
    {"distilbert", R"({"model_type": "distilbert", "vocab_size": 300, "dim": 16, "n_layers": 2,
                       "n_heads": 2, "hidden_dim": 32})",
     ModelTask::kSequenceClassification},
};

void PrintTo(const FamilyCase& c, std::ostream* os) { *os << c.name; }

ModelConfig Config(const FamilyCase& c) {
  return models::ParseModelConfigJson(c.config_json, "config.json");
}

TrainableModel Build(const FamilyCase& c) {
  torch::manual_seed(5);
  return models::BuildArchitecture(Config(c), 3, c.task);
}

torch::Tensor Ids() { return torch::tensor({{5, 6, 7, 8, 9}, {10, 11, 12, 3, 3}}, torch::kInt64); }
torch::Tensor Mask() { return torch::tensor({{1, 1, 1, 1, 1}, {1, 1, 1, 0, 0}}, torch::kInt64); }

torch::Tensor Logits(TrainableModel& model) {
  torch::NoGradGuard no_grad;
  model->eval();
  return model->forward(Ids(), Mask());
}

// Every target the family has, so that each kind of layer carries an update.
LoraOptions AllTargets(const ModelConfig& config) {
  LoraOptions options;
  options.enabled = true;
  options.r = 4;
  options.alpha = 8;
  options.target_modules = models::LoraTargetModules(config.family);
  return options;
}

// B random, so that the update is not zero.
void RandomizeUpdates(torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  for (const auto& item : model.named_parameters()) {
    if (item.key().find(".lora_B.") != std::string::npos) item.value().normal_(0, 0.2);
  }
}

class LoraFamilyTest : public ::testing::TestWithParam<FamilyCase> {};

TEST_P(LoraFamilyTest, AttachedUpdateLeavesTheLogitsBitIdentical) {
  TrainableModel model = Build(GetParam());
  const torch::Tensor before = Logits(model);
  const LoraReport report = ApplyLora(*model, Config(GetParam()).family,
                                      AllTargets(Config(GetParam())));
  EXPECT_GT(report.wrapped_layers, 0);
  EXPECT_TRUE(torch::equal(Logits(model), before));
}

TEST_P(LoraFamilyTest, OnlyUpdatesAndTheClassifierHeadTrain) {
  TrainableModel model = Build(GetParam());
  const LoraReport report = ApplyLora(*model, Config(GetParam()).family,
                                      AllTargets(Config(GetParam())));
  RandomizeUpdates(*model);
  model->train();
  model->forward(Ids(), Mask()).pow(2).sum().backward();
  int64_t updates = 0;
  for (const auto& item : model->named_parameters()) {
    const std::string& name = item.key();
    const bool update = name.find(".lora_A.") != std::string::npos ||
                        name.find(".lora_B.") != std::string::npos;
    bool head = false;
    for (const std::string& module : report.modules_to_save) {
      head = head || name.rfind(module + ".", 0) == 0;
    }
    updates += update ? 1 : 0;
    EXPECT_EQ(item.value().requires_grad(), update || head) << name;
    EXPECT_EQ(item.value().grad().defined(), update || head) << name;
  }
  EXPECT_EQ(updates, 2 * report.wrapped_layers);
  EXPECT_EQ(report.modules_to_save.empty(), GetParam().task == ModelTask::kCausalLm);
  EXPECT_LT(report.trainable_parameters, report.total_parameters);
}

TEST_P(LoraFamilyTest, MergedWeightsGiveTheUnmergedLogits) {
  TrainableModel model = Build(GetParam());
  ApplyLora(*model, Config(GetParam()).family, AllTargets(Config(GetParam())));
  RandomizeUpdates(*model);
  const torch::Tensor unmerged = Logits(model);
  TrainableModel plain = Build(GetParam());
  const torch::Tensor base = Logits(plain);
  {
    torch::NoGradGuard no_grad;
    auto parameters = plain->named_parameters();
    for (const auto& [name, tensor] : MergedParameters(*model)) {
      ASSERT_NE(parameters.find(name), nullptr) << name;
      parameters[name].copy_(tensor);
    }
  }
  const torch::Tensor merged = Logits(plain);
  const double scale = unmerged.abs().max().item<double>();
  EXPECT_LE((merged - unmerged).abs().max().item<double>() / scale, 1e-5);
  // The updates matter: the base model's logits are far from them.
  EXPECT_GT((base - unmerged).abs().max().item<double>() / scale, 1e-2);
}

TEST_P(LoraFamilyTest, Bf16BaseHoldsBf16WeightsAndStaysClose) {
  TrainableModel model = Build(GetParam());
  const torch::Tensor before = Logits(model);
  LoraOptions options = AllTargets(Config(GetParam()));
  options.base_precision = "bf16";
  const LoraReport report = ApplyLora(*model, Config(GetParam()).family, options);
  int64_t bf16 = 0;
  for (const auto& item : model->named_parameters()) {
    if (item.value().scalar_type() == torch::kBFloat16) {
      ++bf16;
      EXPECT_FALSE(item.value().requires_grad()) << item.key();
    }
  }
  EXPECT_GE(bf16, report.wrapped_layers);
  const torch::Tensor after = Logits(model);
  EXPECT_EQ(after.scalar_type(), torch::kFloat32);
  EXPECT_LE((after - before).abs().max().item<double>() / before.abs().max().item<double>(),
            5e-2);
}

TEST_P(LoraFamilyTest, PeftFolderRoundTrips) {
  TrainableModel model = Build(GetParam());
  const ModelConfig config = Config(GetParam());
  LoraOptions options = AllTargets(config);
  options.use_rslora = true;
  const LoraReport report = ApplyLora(*model, config.family, options);
  RandomizeUpdates(*model);
  ft::testing::TempDir dir;
  WritePeftAdapter(*model, options, report, config.family, GetParam().task, "base/model",
                   dir.path().string());
  const nlohmann::json json =
      nlohmann::json::parse(std::ifstream(dir.path().string() + "/" + kAdapterConfigFile));
  EXPECT_EQ(json["peft_type"], "LORA");
  EXPECT_EQ(json["task_type"], GetParam().task == ModelTask::kCausalLm ? "CAUSAL_LM" : "SEQ_CLS");
  EXPECT_EQ(json["fan_in_fan_out"], config.family == models::ModelFamily::kGpt2);

  const LoraOptions read = ReadAdapterConfig(dir.path().string(), LoraOptions{});
  EXPECT_EQ(read.r, 4);
  EXPECT_EQ(read.alpha, 8);
  EXPECT_TRUE(read.use_rslora);
  EXPECT_EQ(read.target_modules, options.target_modules);
  TrainableModel loaded = Build(GetParam());
  ApplyLora(*loaded, config.family, read);
  LoadPeftAdapterWeights(*loaded, dir.path().string());
  EXPECT_TRUE(torch::equal(Logits(loaded), Logits(model)));
}

// Every parameter's name, dtype and value, in the model's order.
void ExpectSameParameters(TrainableModel& expected, TrainableModel& actual) {
  const auto want = expected->named_parameters();
  const auto got = actual->named_parameters();
  ASSERT_EQ(want.size(), got.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(want[i].key(), got[i].key());
    EXPECT_EQ(want[i].value().scalar_type(), got[i].value().scalar_type()) << want[i].key();
    EXPECT_TRUE(torch::equal(want[i].value(), got[i].value())) << want[i].key();
  }
}

int64_t Bf16Parameters(torch::nn::Module& model) {
  int64_t count = 0;
  for (const auto& parameter : model.parameters()) {
    count += parameter.scalar_type() == torch::kBFloat16 ? 1 : 0;
  }
  return count;
}

// Built block by block in bf16 (the low-memory path), a model with a bf16 base is the one that a
// float32 build converted afterwards gives: the same weights bit for bit, and the generator left
// in the same place (the LoRA A matrices are drawn after the build). From scratch and from a
// checkpoint.
TEST_P(LoraFamilyTest, BlocksBuiltInBf16EqualAConversionAfterTheBuild) {
  const ModelConfig config = Config(GetParam());
  LoraOptions options = AllTargets(config);
  options.base_precision = "bf16";
  TrainableModel converted = Build(GetParam());
  ApplyLora(*converted, config.family, options);
  TrainableModel settled{nullptr};
  {
    models::FrozenBlockDtype bf16_blocks(torch::kBFloat16);
    settled = Build(GetParam());
  }
  EXPECT_GT(Bf16Parameters(*settled), 0);  // before the LoRA set-up: the blocks already are
  ApplyLora(*settled, config.family, options);
  ExpectSameParameters(converted, settled);

  // A checkpoint of different weights, read into bf16 blocks.
  torch::manual_seed(6);
  TrainableModel other = models::BuildArchitecture(config, 3, GetParam().task);
  std::vector<torch::Tensor> values;
  std::vector<io::Float32TensorView> views;
  for (const auto& item : other->named_parameters()) {
    values.push_back(item.value().detach().contiguous());
    views.push_back({item.key(), item.value().sizes().vec(), values.back().data_ptr<float>()});
  }
  ft::testing::TempDir dir;
  io::WriteSafetensors(dir.path().string() + "/model.safetensors", views);
  ModelConfig from_folder = config;
  from_folder.source = dir.path().string();
  const models::ModelLog quiet = [](const std::string&, const std::string&) {};
  torch::manual_seed(5);
  TrainableModel loaded = models::BuildModel(from_folder, 3, quiet, GetParam().task);
  ApplyLora(*loaded, config.family, options);
  TrainableModel loaded_settled{nullptr};
  {
    models::FrozenBlockDtype bf16_blocks(torch::kBFloat16);
    torch::manual_seed(5);
    loaded_settled = models::BuildModel(from_folder, 3, quiet, GetParam().task);
  }
  ApplyLora(*loaded_settled, config.family, options);
  ExpectSameParameters(loaded, loaded_settled);
  EXPECT_FALSE(torch::equal(loaded->parameters()[0], converted->parameters()[0]));
}

// The trainable tensors' gradients of one backward pass in train mode (dropout on), every update
// and the head in the model's order, from generator seed `seed`.
std::vector<std::pair<std::string, torch::Tensor>> DropoutGradients(TrainableModel& model,
                                                                     bool checkpointing,
                                                                     uint64_t seed) {
  model->zero_grad();
  model->train();
  model->set_activation_checkpointing(checkpointing);
  torch::manual_seed(seed);
  model->forward(Ids(), Mask()).pow(2).sum().backward();
  std::vector<std::pair<std::string, torch::Tensor>> gradients;
  for (auto& [name, tensor] : NamedTrainableParameters(*model)) {
    gradients.emplace_back(name, tensor.grad().clone());
  }
  return gradients;
}

// The largest difference between two gradient lists, each tensor's relative to its largest value.
double WorstRelativeDifference(const std::vector<std::pair<std::string, torch::Tensor>>& a,
                               const std::vector<std::pair<std::string, torch::Tensor>>& b) {
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double scale = std::max(a[i].second.abs().max().item<double>(), 1e-30);
    worst = std::max(worst, (a[i].second - b[i].second).abs().max().item<double>() / scale);
  }
  return worst;
}

// The checkpointed block's recomputation must draw the forward's dropout masks: the gradients
// equal those of the plain backward pass from the same seed. Another seed draws other masks and
// other gradients, so the comparison can fail.
TEST_P(LoraFamilyTest, DropoutWithActivationCheckpointingGivesThePlainGradients) {
  TrainableModel model = Build(GetParam());
  LoraOptions options = AllTargets(Config(GetParam()));
  options.dropout = 0.3;
  ApplyLora(*model, Config(GetParam()).family, options);
  RandomizeUpdates(*model);
  const auto plain = DropoutGradients(model, false, 11);
  const auto checkpointed = DropoutGradients(model, true, 11);
  ASSERT_EQ(plain.size(), checkpointed.size());
  EXPECT_LE(WorstRelativeDifference(plain, checkpointed), 1e-6);
  EXPECT_GT(WorstRelativeDifference(plain, DropoutGradients(model, false, 12)), 1e-2);
}

INSTANTIATE_TEST_SUITE_P(Families, LoraFamilyTest, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(LoraModelTest, UnknownOrUnmatchedTargetsAreRefusedWithTheValidNames) {
  const FamilyCase& llama = kCases[4];
  TrainableModel model = Build(llama);
  LoraOptions options = AllTargets(Config(llama));
  options.target_modules = {"q_proj", "query_key_value"};
  try {
    ApplyLora(*model, Config(llama).family, options);
    FAIL() << "no error";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("lora.target_modules: unknown module "
                                             "'query_key_value'"),
              std::string::npos)
        << error.what();
    EXPECT_NE(std::string(error.what()).find("gate_proj"), std::string::npos) << error.what();
  }
}

TEST(LoraModelTest, AdapterConfigErrorsNameTheFileAndField) {
  ft::testing::TempDir dir;
  std::ofstream(dir.path().string() + "/adapter_config.json")
      << R"({"peft_type": "PREFIX_TUNING"})";
  try {
    ReadAdapterConfig(dir.path().string(), LoraOptions{});
    FAIL() << "no error";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("adapter_config.json: peft_type"),
              std::string::npos)
        << error.what();
  }
}

}  // namespace
}  // namespace ft::adapters
