// Tests of the native BLOOM implementation: shapes, Hugging Face names, initialization, ALiBi,
// causal and padding masks.
#include "worker/models/bloom_model.h"

#include <gtest/gtest.h>
#include <torch/nn/functional/loss.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "tests/unit/worker/torch_test_util.h"
#include "worker/output/model_export.h"

namespace ft {
namespace {

using models::BloomForSequenceClassification;
using models::PaddingMaskUse;

torch::Tensor Ids(const std::vector<int64_t>& ids) {
  return torch::tensor(ids, torch::kInt64).view({1, -1});
}

BloomForSequenceClassification TinyModel(int64_t num_labels = 3, uint64_t seed = 1) {
  torch::manual_seed(seed);
  return BloomForSequenceClassification(testing::TinyConfig(), num_labels);
}

TEST(BloomModelTest, OutputShapes) {
  auto model = TinyModel(5);
  torch::NoGradGuard no_grad;
  const auto ids = torch::randint(4, 260, {3, 11}, torch::kInt64);
  const auto mask = torch::ones({3, 11}, torch::kInt64);
  EXPECT_EQ(model->forward(ids, mask).sizes(), (std::vector<int64_t>{3, 5}));
  EXPECT_EQ(model->HiddenStates(ids, mask).sizes(), (std::vector<int64_t>{3, 11, 128}));
}

// Expected names and shapes are spelled out independently of the implementation.
TEST(BloomModelTest, ParameterNamesAndCountMatchHuggingFace) {
  auto model = TinyModel(2);
  const int64_t hidden = 128;
  std::map<std::string, std::vector<int64_t>> expected = {
      {"transformer.word_embeddings.weight", {260, hidden}},
      {"transformer.word_embeddings_layernorm.weight", {hidden}},
      {"transformer.word_embeddings_layernorm.bias", {hidden}},
      {"transformer.ln_f.weight", {hidden}},
      {"transformer.ln_f.bias", {hidden}},
      {"score.weight", {2, hidden}},
  };
  for (int layer = 0; layer < 2; ++layer) {
    const std::string prefix = "transformer.h." + std::to_string(layer) + ".";
    expected[prefix + "input_layernorm.weight"] = {hidden};
    expected[prefix + "input_layernorm.bias"] = {hidden};
    expected[prefix + "self_attention.query_key_value.weight"] = {3 * hidden, hidden};
    expected[prefix + "self_attention.query_key_value.bias"] = {3 * hidden};
    expected[prefix + "self_attention.dense.weight"] = {hidden, hidden};
    expected[prefix + "self_attention.dense.bias"] = {hidden};
    expected[prefix + "post_attention_layernorm.weight"] = {hidden};
    expected[prefix + "post_attention_layernorm.bias"] = {hidden};
    expected[prefix + "mlp.dense_h_to_4h.weight"] = {4 * hidden, hidden};
    expected[prefix + "mlp.dense_h_to_4h.bias"] = {4 * hidden};
    expected[prefix + "mlp.dense_4h_to_h.weight"] = {hidden, 4 * hidden};
    expected[prefix + "mlp.dense_4h_to_h.bias"] = {hidden};
  }
  std::map<std::string, std::vector<int64_t>> actual;
  int64_t count = 0;
  for (const auto& item : model->named_parameters()) {
    actual[item.key()] = item.value().sizes().vec();
    count += item.value().numel();
  }
  EXPECT_EQ(actual, expected);
  // 260*128 + 2*128 (embedding LN) + 2 * 198272 (blocks) + 2*128 (ln_f) + 2*128 (score).
  EXPECT_EQ(count, 33280 + 256 + 2 * 198272 + 256 + 256);
}

TEST(BloomModelTest, InitializesLikeHuggingFace) {
  auto model = TinyModel(2, 7);
  auto again = TinyModel(2, 7);
  auto other = TinyModel(2, 8);
  const auto params = model->named_parameters();
  for (const auto& item : params) {
    const std::string& name = item.key();
    const auto& value = item.value();
    EXPECT_TRUE(torch::equal(value, again->named_parameters()[name])) << name;
    if (name.find("layernorm.weight") != std::string::npos || name == "transformer.ln_f.weight") {
      EXPECT_TRUE(torch::equal(value, torch::ones_like(value))) << name;
    } else if (name.size() > 5 && name.substr(name.size() - 5) == ".bias") {
      EXPECT_TRUE(torch::equal(value, torch::zeros_like(value))) << name;
    } else if (value.numel() > 1000) {
      EXPECT_NEAR(value.std().item<double>(), 0.02, 0.002) << name;
      EXPECT_NEAR(value.mean().item<double>(), 0.0, 0.002) << name;
      EXPECT_FALSE(torch::equal(value, other->named_parameters()[name])) << name;
    }
  }
}

TEST(BloomModelTest, GeluIsBloomsTanhApproximation) {
  const auto x = torch::tensor({-2.0, 0.0, 1.0, 3.0}, torch::kFloat64);
  const auto y = models::BloomGelu(x);
  // 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) evaluated independently.
  const double expected[] = {-0.04540231, 0.0, 0.84119199, 2.99636261};
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(y[i].item<double>(), expected[i], 1e-6);
}

TEST(BloomModelTest, AlibiCountsOnlyTokens) {
  const auto mask = torch::tensor({0, 0, 1, 1, 1, 1, 1, 1, 0, 0}, torch::kInt64).view({2, 5});
  const auto alibi = models::BuildAlibi(mask, 4, torch::kFloat32);
  ASSERT_EQ(alibi.sizes(), (std::vector<int64_t>{2, 4, 1, 5}));
  // Head 1 has slope 1/16. Row 0 is left padded, row 1 right padded.
  EXPECT_TRUE(torch::allclose(alibi[0][1][0], torch::tensor({0.f, 0.f, 0.f, 1.f, 2.f}) / 16));
  EXPECT_TRUE(torch::allclose(alibi[1][1][0], torch::tensor({0.f, 1.f, 2.f, 0.f, 0.f}) / 16));
}

TEST(BloomModelTest, AttentionIsCausal) {
  const testing::ScopedIntraOpThreads one_thread(1);  // the same rounding on every machine
  auto model = TinyModel();
  torch::NoGradGuard no_grad;
  const std::vector<int64_t> original{10, 20, 30, 40, 50, 60};
  std::vector<int64_t> changed = original;
  changed[3] = 200;
  const auto mask = torch::ones({1, 6}, torch::kInt64);
  const auto before = model->HiddenStates(Ids(original), mask);
  const auto after = model->HiddenStates(Ids(changed), mask);
  using torch::indexing::Slice;
  EXPECT_TRUE(
      torch::allclose(before.index({0, Slice(0, 3)}), after.index({0, Slice(0, 3)}), 0, 1e-6));
  for (int position = 3; position < 6; ++position) {
    EXPECT_GT((before[0][position] - after[0][position]).abs().max().item<double>(), 1e-3)
        << position;
  }
}

// A batch of two sequences (lengths 5 and 9), padded on `side`, against each sequence alone.
struct PaddingCase {
  torch::Tensor ids, mask, unpadded_logits;
};

PaddingCase MakePaddingCase(BloomForSequenceClassification& model, bool left) {
  const auto split = testing::RandomSplit({5, 9}, 3, 17);
  const auto& shorter = split.input_ids[0];
  const auto& longer = split.input_ids[1];
  std::vector<int64_t> padded_ids(9, 3), mask_values(9, 0);
  const int64_t offset = left ? 9 - 5 : 0;
  for (int i = 0; i < 5; ++i) {
    padded_ids[offset + i] = shorter[i];
    mask_values[offset + i] = 1;
  }
  PaddingCase result;
  result.ids = torch::cat({Ids(padded_ids), Ids(longer)});
  result.mask = torch::cat({Ids(mask_values), torch::ones({1, 9}, torch::kInt64)});
  torch::NoGradGuard no_grad;
  result.unpadded_logits =
      torch::cat({model->forward(Ids(shorter), torch::ones({1, 5}, torch::kInt64)),
                  model->forward(Ids(longer), torch::ones({1, 9}, torch::kInt64))});
  return result;
}

double PaddedVersusUnpadded(BloomForSequenceClassification& model, bool left,
                            const PaddingMaskUse& use = {}) {
  const PaddingCase c = MakePaddingCase(model, left);
  torch::NoGradGuard no_grad;
  return (model->forward(c.ids, c.mask, use) - c.unpadded_logits).abs().max().item<double>();
}

TEST(BloomModelTest, RightPaddingGivesTheUnpaddedLogits) {
  const testing::ScopedIntraOpThreads one_thread(1);  // the same rounding on every machine
  auto model = TinyModel();
  EXPECT_LT(PaddedVersusUnpadded(model, /*left=*/false), 1e-5);
}

TEST(BloomModelTest, LeftPaddingGivesTheUnpaddedLogits) {
  const testing::ScopedIntraOpThreads one_thread(1);  // the same rounding on every machine
  auto model = TinyModel();
  EXPECT_LT(PaddedVersusUnpadded(model, /*left=*/true), 1e-5);
}

// The same comparisons must notice a model that ignores the padding mask.
TEST(BloomModelTest, PaddingComparisonsCatchAnIgnoredMask) {
  const testing::ScopedIntraOpThreads one_thread(1);  // the same rounding on every machine
  auto model = TinyModel();
  PaddingMaskUse no_attention_mask;
  no_attention_mask.in_attention = false;
  PaddingMaskUse no_pooling_mask;
  no_pooling_mask.in_pooling = false;
  // Left padding: the pads come first, so attention to them changes every later token.
  EXPECT_GT(PaddedVersusUnpadded(model, /*left=*/true, no_attention_mask), 1e-3);
  // Right padding: pooling at the last position classifies from a pad.
  EXPECT_GT(PaddedVersusUnpadded(model, /*left=*/false, no_pooling_mask), 1e-3);
  // ... while causality alone already hides right pads from the real tokens.
  EXPECT_LT(PaddedVersusUnpadded(model, /*left=*/false, no_attention_mask), 1e-5);
}

// The classifier computes the last block only at each row's pooled position. It must equal
// the head applied to the full hidden states at that position: logits and every gradient.
TEST(BloomModelTest, LastBlockAtThePooledPositionEqualsTheFullComputation) {
  const testing::ScopedIntraOpThreads one_thread(1);  // the same rounding on every machine
  auto model = TinyModel(3);
  const auto ids = torch::randint(4, 260, {4, 13}, torch::kInt64);
  auto mask = torch::ones({4, 13}, torch::kInt64);
  mask.index_put_({1, torch::indexing::Slice(9, torch::indexing::None)}, 0);  // right padding
  mask.index_put_({2, torch::indexing::Slice(0, 5)}, 0);                      // left padding
  mask.index_put_({3, torch::indexing::Slice(1, torch::indexing::None)}, 0);  // one token
  const auto labels = torch::tensor({0, 2, 1, 2}, torch::kInt64);
  const auto gradients = [&](const torch::Tensor& logits) {
    model->zero_grad();
    torch::nn::functional::cross_entropy(logits, labels).backward();
    std::vector<torch::Tensor> out;
    for (const auto& parameter : model->parameters()) out.push_back(parameter.grad().clone());
    return out;
  };
  const auto pruned_logits = model->forward(ids, mask);
  const auto pruned = gradients(pruned_logits);

  const auto hidden = model->HiddenStates(ids, mask);
  const auto last = (torch::arange(13, torch::kInt64) * mask).argmax(-1);
  const auto pooled = hidden.index({torch::arange(4, torch::kInt64), last});
  const auto full_logits =
      torch::matmul(pooled, model->named_parameters()["score.weight"].t());
  const auto full = gradients(full_logits);

  EXPECT_LT((pruned_logits - full_logits).abs().max().item<double>(), 1e-6);
  ASSERT_EQ(pruned.size(), full.size());
  for (std::size_t i = 0; i < full.size(); ++i) {
    const double scale = full[i].abs().max().item<double>();
    EXPECT_GT(scale, 0.0) << "parameter " << i << " got no gradient";
    EXPECT_LE((pruned[i] - full[i]).abs().max().item<double>(), 1e-5 * scale) << "parameter " << i;
  }
  // Pooling a wrong position would be noticed: the position before the last token differs.
  const auto shifted = hidden.index({torch::arange(4, torch::kInt64), (last - 1).clamp_min(0)});
  EXPECT_GT((torch::matmul(shifted, model->named_parameters()["score.weight"].t()) - pruned_logits)
                .abs()
                .max()
                .item<double>(),
            1e-3);
}

// Writes a model and its logits for tests/unit/worker/bloom_reference.py, which checks them
// against an independent PyTorch implementation. DISABLED_: not a test of its own; the script runs
// it with --gtest_also_run_disabled_tests.
TEST(DISABLED_BloomReferenceDump, WritesModelInputsAndLogits) {
  const char* dir_env = std::getenv("FT_BLOOM_DUMP_DIR");
  if (dir_env == nullptr) GTEST_SKIP() << "run by bloom_reference.py";
  const std::filesystem::path dir(dir_env);
  for (const int64_t heads : {4, 6}) {
    models::BloomConfig config = testing::TinyConfig();
    config.n_head = heads;
    config.hidden_size = 96;
    torch::manual_seed(heads);
    BloomForSequenceClassification model(config, 3);
    // Non-trivial LayerNorm and bias values, so that the reference checks their use too.
    {
      torch::NoGradGuard no_grad;
      for (auto& item : model->named_parameters()) {
        if (item.value().dim() == 1) item.value().uniform_(-0.5, 1.5);
      }
    }
    const std::string name = "heads" + std::to_string(heads);
    train::WriteModelSafetensors(*model, (dir / (name + ".safetensors")).string());
    const auto split = testing::RandomSplit({7, 3, 7, 1}, 3, 5);
    std::vector<int64_t> ids, mask;
    for (std::size_t row = 0; row < split.input_ids.size(); ++row) {
      const auto& tokens = split.input_ids[row];
      const std::size_t pads = 7 - tokens.size();
      const bool left = row % 2 == 1;
      std::vector<int64_t> row_ids(7, 3), row_mask(7, 0);
      for (std::size_t i = 0; i < tokens.size(); ++i) {
        row_ids[(left ? pads : 0) + i] = tokens[i];
        row_mask[(left ? pads : 0) + i] = 1;
      }
      ids.insert(ids.end(), row_ids.begin(), row_ids.end());
      mask.insert(mask.end(), row_mask.begin(), row_mask.end());
    }
    const auto ids_tensor = torch::tensor(ids, torch::kInt64).view({4, 7});
    const auto mask_tensor = torch::tensor(mask, torch::kInt64).view({4, 7});
    torch::NoGradGuard no_grad;
    const auto logits = model->forward(ids_tensor, mask_tensor).contiguous();
    std::ofstream out(dir / (name + ".txt"));
    out.precision(9);
    out << heads << " " << config.hidden_size << " " << config.n_layer << "\n";
    for (int64_t value : ids) out << value << " ";
    out << "\n";
    for (int64_t value : mask) out << value << " ";
    out << "\n";
    for (int64_t i = 0; i < logits.numel(); ++i) out << logits.view(-1)[i].item<float>() << " ";
    out << "\n";
  }
}

}  // namespace
}  // namespace ft
