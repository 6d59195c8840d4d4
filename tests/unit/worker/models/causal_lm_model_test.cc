// The causal-LM classes (worker/models/causal_lm.h): a tied head is the input embedding itself
// (one parameter, its gradient from both uses), an untied one is lm_head.weight, loaded from and
// exported to Hugging Face's names, and each family's exported config.json names its
// *ForCausalLM class.
#include "worker/models/causal_lm.h"

#include <gtest/gtest.h>
#include <torch/types.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "common/models/hf_config.h"
#include "tests/support/temp_dir.h"
#include "worker/models/model_loader.h"
#include "worker/output/model_export.h"
#include "worker/train/train_step.h"

namespace ft::models {
namespace {

ModelConfig LlamaConfig(bool tied) {
  return ParseModelConfigJson(
      nlohmann::json({{"model_type", "llama"}, {"vocab_size", 300}, {"hidden_size", 16},
                      {"num_hidden_layers", 1}, {"num_attention_heads", 2},
                      {"intermediate_size", 32}, {"tie_word_embeddings", tied},
                      {"eos_token_id", nlohmann::json::array({2, 5})}})
          .dump(),
      "config.json");
}

ModelConfig Gpt2Config() {
  return ParseModelConfigJson(
      nlohmann::json({{"model_type", "gpt2"}, {"vocab_size", 300}, {"n_embd", 16}, {"n_layer", 1},
                      {"n_head", 2}, {"eos_token_id", 2}, {"id2label", {{"0", "a"}}}})
          .dump(),
      "config.json");
}

TrainableModel Build(const ModelConfig& config) {
  torch::manual_seed(3);
  return BuildArchitecture(config, 0, ModelTask::kCausalLm);
}

// The summed next-token loss of two short rows, backpropagated.
void Backward(TrainableModelImpl& model) {
  const torch::Tensor ids = torch::tensor({{5, 6, 7, 8}, {9, 10, 11, 3}}, torch::kInt64);
  const torch::Tensor mask = torch::tensor({{1, 1, 1, 1}, {1, 1, 1, 0}}, torch::kInt64);
  const torch::Tensor labels = torch::tensor({{-100, 6, 7, 8}, {-100, 10, 11, -100}});
  train::SummedTokenCrossEntropy(model.forward(ids, mask), labels).backward();
}

TEST(CausalLmModelTest, TiedHeadIsTheEmbeddingAndGetsGradientForEveryRow) {
  TrainableModel model = Build(LlamaConfig(/*tied=*/true));
  EXPECT_EQ(model->task(), ModelTask::kCausalLm);
  EXPECT_EQ(model->num_labels(), 300);
  EXPECT_TRUE(model->HeadParameterNames().empty());
  const auto parameters = model->named_parameters();
  EXPECT_EQ(parameters.find("lm_head.weight"), nullptr);
  Backward(*model);
  // Through the head every vocabulary row gets a gradient, not only the input tokens' rows.
  const torch::Tensor grad = parameters["model.embed_tokens.weight"].grad();
  EXPECT_GT(grad[200].abs().sum().item<double>(), 0.0);
}

TEST(CausalLmModelTest, UntiedHeadIsItsOwnParameter) {
  TrainableModel model = Build(LlamaConfig(/*tied=*/false));
  const auto parameters = model->named_parameters();
  ASSERT_NE(parameters.find("lm_head.weight"), nullptr);
  EXPECT_EQ(parameters["lm_head.weight"].sizes(), torch::IntArrayRef({300, 16}));
  EXPECT_EQ(model->HeadParameterNames(), std::vector<std::string>{"lm_head.weight"});
  Backward(*model);
  // Only the input tokens' embedding rows get a gradient; the head gets one for every row.
  EXPECT_EQ(parameters["model.embed_tokens.weight"].grad()[200].abs().sum().item<double>(), 0.0);
  EXPECT_GT(parameters["lm_head.weight"].grad()[200].abs().sum().item<double>(), 0.0);
}

TEST(CausalLmModelTest, ExportedFolderLoadsBackWithTheSameLogits) {
  ft::testing::TempDir dir;
  TrainableModel model = Build(LlamaConfig(/*tied=*/false));
  const std::string folder = (dir.path() / "out").string();
  train::WriteModelFolder(*model, {}, 16, folder);
  const nlohmann::json config = nlohmann::json::parse(std::ifstream(folder + "/config.json"));
  EXPECT_EQ(config["architectures"][0], "LlamaForCausalLM");
  EXPECT_EQ(config["tie_word_embeddings"], false);
  const nlohmann::json generation =
      nlohmann::json::parse(std::ifstream(folder + "/generation_config.json"));
  EXPECT_EQ(generation["eos_token_id"], nlohmann::json::array({2, 5}));

  torch::manual_seed(99);  // other fresh weights: everything must come from the folder
  TrainableModel loaded = BuildArchitecture(LlamaConfig(false), 0, ModelTask::kCausalLm);
  LoadCheckpointWeights(*loaded, folder, [](const std::string&, const std::string&) {});
  const torch::Tensor ids = torch::tensor({{5, 6, 7}}, torch::kInt64);
  const torch::Tensor mask = torch::ones({1, 3}, torch::kInt64);
  EXPECT_TRUE(torch::equal(model->forward(ids, mask), loaded->forward(ids, mask)));
}

TEST(CausalLmModelTest, Gpt2ExportIsAnLmHeadModelWithoutLabels) {
  TrainableModel model = Build(Gpt2Config());
  const nlohmann::json config = nlohmann::json::parse(model->HfConfigJson({}));
  EXPECT_EQ(config["architectures"][0], "GPT2LMHeadModel");
  EXPECT_FALSE(config.contains("id2label"));
  EXPECT_EQ(config["tie_word_embeddings"], true);
  EXPECT_EQ(model->named_parameters().find("lm_head.weight"), nullptr);
}

TEST(CausalLmModelTest, EncodersHaveNoCausalLm) {
  ModelConfig bert = ParseModelConfigJson(
      R"({"model_type": "bert", "vocab_size": 300, "hidden_size": 16, "num_hidden_layers": 1,
          "num_attention_heads": 2, "intermediate_size": 32})",
      "config.json");
  EXPECT_THROW(BuildArchitecture(bert, 0, ModelTask::kCausalLm), std::runtime_error);
}

}  // namespace
}  // namespace ft::models
