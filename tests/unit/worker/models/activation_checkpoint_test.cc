// Activation checkpointing changes memory, not mathematics: the accumulated gradients of a window
// are the same with and without it, in float32 and under bf16 autocast (where the recomputation
// must run under the forward's autocast state), and evaluation is unaffected.
#include <gtest/gtest.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <string>
#include <vector>

#include "tests/unit/worker/torch_test_util.h"
#include "worker/data/micro_batch.h"
#include "worker/models/bloom_model.h"
#include "worker/train/train_step.h"

namespace ft {
namespace {

using models::BloomForSequenceClassification;

std::vector<train::MicroBatch> Window() {
  static const train::TokenizedSplit split =
      testing::RandomSplit({7, 19, 3, 25, 11, 16, 5, 9}, 3, 21);
  std::vector<train::MicroBatch> batches;
  for (const std::vector<std::size_t>& indices :
       std::vector<std::vector<std::size_t>>{{0, 1, 2}, {3, 4, 5}, {6, 7}}) {
    batches.push_back(train::CollateMicroBatch(split, indices, torch::kCPU));
  }
  return batches;
}

// Every parameter's gradient after one window, in named_parameters() order.
std::vector<std::pair<std::string, torch::Tensor>> WindowGradients(bool checkpointing,
                                                                   bool bf16) {
  const testing::ScopedIntraOpThreads one_thread(1);
  torch::manual_seed(7);
  BloomForSequenceClassification model(testing::TinyConfig(), 3);
  model->set_activation_checkpointing(checkpointing);
  train::StepPrecision precision;
  precision.autocast = bf16;
  train::AccumulateWindow(*model, Window(), 8, nullptr, precision);
  std::vector<std::pair<std::string, torch::Tensor>> gradients;
  for (const auto& item : model->named_parameters()) {
    EXPECT_TRUE(item.value().grad().defined()) << item.key();
    gradients.emplace_back(item.key(), item.value().grad().clone());
  }
  return gradients;
}

void ExpectSameGradients(bool bf16) {
  const auto plain = WindowGradients(false, bf16);
  const auto checkpointed = WindowGradients(true, bf16);
  ASSERT_EQ(plain.size(), checkpointed.size());
  for (std::size_t i = 0; i < plain.size(); ++i) {
    // The recomputation repeats the same operations on the same inputs: equal to the last bit.
    EXPECT_TRUE(torch::equal(plain[i].second, checkpointed[i].second))
        << plain[i].first << " differs by "
        << testing::RelativeMaxDifference(checkpointed[i].second, plain[i].second);
  }
}

TEST(ActivationCheckpointTest, Float32GradientsAreIdentical) { ExpectSameGradients(false); }

TEST(ActivationCheckpointTest, Bf16AutocastGradientsAreIdentical) { ExpectSameGradients(true); }

// The bf16 comparison can fail: gradients under autocast differ from float32 ones, so a
// recomputation in the wrong precision would be seen.
TEST(ActivationCheckpointTest, Bf16AndFloat32GradientsDiffer) {
  const auto float32 = WindowGradients(false, false);
  const auto bf16 = WindowGradients(false, true);
  EXPECT_FALSE(torch::equal(float32.front().second, bf16.front().second));
}

TEST(ActivationCheckpointTest, NoRecomputationWithoutGradients) {
  torch::manual_seed(7);
  BloomForSequenceClassification model(testing::TinyConfig(), 3);
  const train::MicroBatch batch = Window().front();
  torch::NoGradGuard no_grad;
  const torch::Tensor plain = model->forward(batch.input_ids, batch.attention_mask);
  model->set_activation_checkpointing(true);
  const torch::Tensor checkpointed = model->forward(batch.input_ids, batch.attention_mask);
  EXPECT_TRUE(torch::equal(plain, checkpointed));
  EXPECT_FALSE(checkpointed.requires_grad());
}

}  // namespace
}  // namespace ft
