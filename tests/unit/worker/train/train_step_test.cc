// The pieces of a training step around the accumulation window: the global gradient norm and
// clipping, the collation of a micro-batch, and evaluation.
#include <gtest/gtest.h>
#include <torch/nn/functional/loss.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <vector>

#include "tests/unit/worker/torch_test_util.h"
#include "worker/data/micro_batch.h"
#include "worker/eval/evaluation.h"
#include "worker/train/train_step.h"

namespace ft {
namespace {

using train::MicroBatch;

const train::TokenizedSplit& Examples() { return testing::MixedLengthSplit(); }

TEST(GradientNormTest, NormAndClipping) {
  auto a = torch::tensor({3.0f, 0.0f}).requires_grad_();
  auto b = torch::tensor({4.0f}).requires_grad_();
  (a * torch::tensor({3.0f, 0.0f})).sum().backward();
  (b * torch::tensor({4.0f})).sum().backward();
  const std::vector<torch::Tensor> params{a, b};
  const auto norm = train::GlobalGradNorm(params);
  EXPECT_NEAR(norm.item<double>(), 5.0, 1e-6);
  train::ClipGradients(params, 10.0, norm);  // below the limit: unchanged
  EXPECT_NEAR(train::GlobalGradNorm(params).item<double>(), 5.0, 1e-6);
  train::ClipGradients(params, 1.0, norm);
  EXPECT_NEAR(train::GlobalGradNorm(params).item<double>(), 1.0, 1e-5);
  EXPECT_NEAR(a.grad()[0].item<double>(), 0.6, 1e-5);
}

TEST(MicroBatchTest, PadsOnTheRightToTheLongestOfTheMicroBatch) {
  const MicroBatch batch = train::CollateMicroBatch(Examples(), {4, 0}, torch::kCPU);  // 2, 5
  EXPECT_EQ(batch.input_ids.sizes(), (std::vector<int64_t>{2, 5}));
  EXPECT_EQ(batch.tokens, 7);
  EXPECT_EQ(batch.examples, 2);
  EXPECT_TRUE(
      torch::equal(batch.attention_mask,
                   torch::tensor({1, 1, 0, 0, 0, 1, 1, 1, 1, 1}, torch::kInt64).view({2, 5})));
  EXPECT_TRUE(torch::equal(batch.input_ids[0].slice(0, 2), torch::full({3}, 3, torch::kInt64)));
  EXPECT_EQ(batch.input_ids[1][4].item<int64_t>(), Examples().input_ids[0][4]);
  EXPECT_EQ(batch.labels[0].item<int64_t>(), Examples().labels[4]);
}

TEST(EvaluationTest, BatchSizeDoesNotChangeTheResultAndTrainModeIsRestored) {
  auto model = testing::TinyBloomClassifier();
  train::EvaluationOptions one_by_one{1, 10};
  train::EvaluationOptions batched{32, 10};
  const auto a = train::Evaluate(*model, Examples(), one_by_one, torch::kCPU, 4);
  const auto b = train::Evaluate(*model, Examples(), batched, torch::kCPU, 4);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->examples, 10);
  EXPECT_EQ(a->step, 4);
  EXPECT_NEAR(a->loss, b->loss, 1e-5);
  EXPECT_DOUBLE_EQ(a->accuracy, b->accuracy);
  EXPECT_TRUE(model->is_training());
  // Against a direct computation over the first ten examples.
  namespace F = torch::nn::functional;
  torch::NoGradGuard no_grad;
  double loss = 0;
  int correct = 0;
  const int64_t classes = model->num_labels();
  std::vector<int64_t> confusion(static_cast<std::size_t>(classes * classes), 0);
  for (std::size_t i = 0; i < 10; ++i) {
    const MicroBatch one = train::CollateMicroBatch(Examples(), {i}, torch::kCPU);
    const auto logits = model->forward(one.input_ids, one.attention_mask);
    loss += F::cross_entropy(logits, one.labels).item<double>();
    const int64_t predicted = logits.argmax(-1).item<int64_t>();
    const int64_t truth = one.labels[0].item<int64_t>();
    correct += predicted == truth;
    ++confusion[static_cast<std::size_t>(truth * classes + predicted)];
  }
  EXPECT_NEAR(b->loss, loss / 10, 1e-5);
  EXPECT_DOUBLE_EQ(b->accuracy, correct / 10.0);
  // The confusion matrix accumulated on the device: rows true label, columns predicted.
  EXPECT_EQ(a->confusion, confusion);
  EXPECT_EQ(b->confusion, confusion);
  ASSERT_EQ(b->classes.size(), static_cast<std::size_t>(classes));
  EXPECT_EQ(b->classes[0].label, "0");  // no label names given: the class ids
}

TEST(EvaluationTest, StopsWhenAsked) {
  auto model = testing::TinyBloomClassifier();
  const auto report =
      train::Evaluate(*model, Examples(), {4, 0}, torch::kCPU, 0, [] { return true; });
  EXPECT_FALSE(report.has_value());
}

}  // namespace
}  // namespace ft
