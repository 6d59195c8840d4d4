// Cached greedy decoding against the plain forward: for each causal-LM family on a tiny random
// configuration, every step's logits from the key/value cache equal the full forward's logits at
// that position over the whole sequence, and GreedyGenerate's tokens are those of recomputing
// the whole sequence each step and taking the argmax.
#include "worker/generate/greedy_generate.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <string>
#include <vector>

#include "common/models/hf_config.h"
#include "common/models/model_catalog.h"
#include "worker/models/model_loader.h"

namespace ft::generate {
namespace {

using models::CausalLmImpl;
using models::ModelConfig;
using models::ModelTask;

struct Family {
  std::string name;
  ModelConfig config;
};

ModelConfig Parse(const std::string& json) { return models::ParseModelConfigJson(json, "test"); }

std::vector<Family> Families() {
  models::BloomConfig bloom;
  bloom.vocab_size = 300;
  bloom.hidden_size = 32;
  bloom.n_layer = 2;
  bloom.n_head = 4;
  return {
      {"bloom", models::ScratchModelConfig(bloom)},
      {"gpt2", Parse(R"({"model_type": "gpt2", "vocab_size": 300, "n_embd": 32, "n_layer": 2,
                         "n_head": 4, "n_positions": 64})")},
      // Grouped-query attention, an untied head.
      {"llama", Parse(R"({"model_type": "llama", "vocab_size": 300, "hidden_size": 32,
                          "num_hidden_layers": 2, "num_attention_heads": 4,
                          "num_key_value_heads": 2, "intermediate_size": 64})")},
      // A window shorter than the sequences, so that cached keys fall out of it.
      {"mistral", Parse(R"({"model_type": "mistral", "vocab_size": 300, "hidden_size": 32,
                            "num_hidden_layers": 2, "num_attention_heads": 4,
                            "num_key_value_heads": 2, "intermediate_size": 64,
                            "sliding_window": 5})")},
      // q/k/v biases, a tied head.
      {"qwen2", Parse(R"({"model_type": "qwen2", "vocab_size": 300, "hidden_size": 32,
                          "num_hidden_layers": 2, "num_attention_heads": 4,
                          "num_key_value_heads": 1, "intermediate_size": 64,
                          "tie_word_embeddings": true})")},
  };
}

// A causal LM with weights spread wide enough (std 0.3, biases and norms included) that its
// argmax is not decided by float noise between near-equal logits.
models::TrainableModel RandomModel(const ModelConfig& config) {
  torch::manual_seed(7);
  models::TrainableModel model = models::BuildArchitecture(config, 0, ModelTask::kCausalLm);
  torch::NoGradGuard no_grad;
  for (torch::Tensor& parameter : model->parameters()) parameter.normal_(0.0, 0.3);
  model->eval();
  return model;
}

CausalLmImpl& AsCausalLm(models::TrainableModel& model) {
  auto* causal_lm = dynamic_cast<CausalLmImpl*>(model.get());
  if (causal_lm == nullptr) throw std::runtime_error("not a causal LM");
  return *causal_lm;
}

// The last position's logits [vocab] of the plain forward over all of `ids`.
torch::Tensor FullForwardLastLogits(models::TrainableModel& model, const std::vector<int64_t>& ids) {
  const torch::Tensor input = torch::tensor(ids, torch::kInt64).view({1, -1});
  return model->forward(input, torch::ones_like(input))[0][-1];
}

const std::vector<int64_t> kPrompt = {5, 17, 250, 3, 99, 42, 8};

class GreedyGenerateTest : public ::testing::TestWithParam<Family> {};

TEST_P(GreedyGenerateTest, CachedStepLogitsEqualTheFullForward) {
  models::TrainableModel model = RandomModel(GetParam().config);
  CausalLmImpl& lm = AsCausalLm(model);
  torch::NoGradGuard no_grad;
  models::KvCache cache;
  std::vector<int64_t> ids = kPrompt;
  torch::Tensor input = torch::tensor(ids, torch::kInt64).view({1, -1});
  double worst = 0;
  for (int step = 0; step < 12; ++step) {
    const torch::Tensor cached = lm.NextTokenLogits(input, cache)[0];
    const torch::Tensor full = FullForwardLastLogits(model, ids);
    ASSERT_EQ(cache.length(), static_cast<int64_t>(ids.size()));
    const double difference = (cached - full).abs().max().item<double>() /
                              full.abs().max().item<double>();
    worst = std::max(worst, difference);
    EXPECT_LE(difference, 1e-5) << GetParam().name << " step " << step;
    // Feed a token that is not the argmax too, so positions past the greedy path are covered.
    const int64_t next = (step % 3 == 2) ? (ids.back() * 7 + 11) % 300
                                         : full.argmax().item<int64_t>();
    ids.push_back(next);
    input = torch::tensor({next}, torch::kInt64).view({1, 1});
  }
  RecordProperty("worst_relative_difference", std::to_string(worst));
}

TEST_P(GreedyGenerateTest, TokensEqualRecomputingTheWholeSequence) {
  models::TrainableModel model = RandomModel(GetParam().config);
  constexpr int64_t kNewTokens = 16;
  const std::vector<int64_t> generated =
      GreedyGenerate(AsCausalLm(model), kPrompt, kNewTokens, std::nullopt);

  torch::NoGradGuard no_grad;
  std::vector<int64_t> ids = kPrompt;
  std::vector<int64_t> expected;
  for (int64_t step = 0; step < kNewTokens; ++step) {
    expected.push_back(FullForwardLastLogits(model, ids).argmax().item<int64_t>());
    ids.push_back(expected.back());
  }
  EXPECT_EQ(generated, expected) << GetParam().name;
}

TEST_P(GreedyGenerateTest, StopsAtEosAndIncludesIt) {
  models::TrainableModel model = RandomModel(GetParam().config);
  const std::vector<int64_t> free_run =
      GreedyGenerate(AsCausalLm(model), kPrompt, 8, std::nullopt);
  ASSERT_EQ(free_run.size(), 8u);
  // The third generated token as EOS: generation ends there, with it.
  const std::vector<int64_t> stopped = GreedyGenerate(AsCausalLm(model), kPrompt, 8, free_run[2]);
  const auto first = std::find(free_run.begin(), free_run.end(), free_run[2]);
  EXPECT_EQ(stopped, std::vector<int64_t>(free_run.begin(), first + 1));
  EXPECT_TRUE(GreedyGenerate(AsCausalLm(model), kPrompt, 0, std::nullopt).empty());
}

INSTANTIATE_TEST_SUITE_P(Families, GreedyGenerateTest, ::testing::ValuesIn(Families()),
                         [](const ::testing::TestParamInfo<Family>& info) {
                           return info.param.name;
                         });

TEST(GreedyGenerateLimitsTest, StopsWhereGpt2HasNoPositionLeft) {
  models::TrainableModel model = RandomModel(Parse(
      R"({"model_type": "gpt2", "vocab_size": 300, "n_embd": 32, "n_layer": 1, "n_head": 4,
          "n_positions": 10})"));
  EXPECT_EQ(GreedyGenerate(AsCausalLm(model), kPrompt, 8, std::nullopt).size(), 3u);
  EXPECT_THROW(GreedyGenerate(AsCausalLm(model), {}, 8, std::nullopt), std::invalid_argument);
}

}  // namespace
}  // namespace ft::generate
