// Exactness of gradient accumulation: a window of micro-batches gives the gradient of one batch
// of all its examples, through the same AccumulateWindow the trainer uses.
#include <gtest/gtest.h>
#include <torch/nn/functional/loss.h>
#include <torch/optim/sgd.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <sstream>
#include <string>
#include <vector>

#include "models/bloom_model.h"
#include "torch_test_util.h"
#include "train/evaluation.h"
#include "train/micro_batch.h"
#include "train/train_step.h"

namespace ft {
namespace {

using models::BloomForSequenceClassification;
using train::MicroBatch;

// Parameters named, so that a failure says which tensor.
using Gradients = std::vector<std::pair<std::string, torch::Tensor>>;

// The acceptance criterion: max |a - b| <= 1e-6 * max |b| for every tensor. float64 meets it to
// ~1e-14; ~1 is what mis-scaling gives. In float32 the two paths round differently (matrix shapes
// and summation order differ), and on this tiny model that rounding alone reaches the criterion:
// over 40 seeds the accumulated window differed from its batch by up to 1.4e-6, and the batch from
// itself with its rows reversed by up to 6.2e-7, the first at most 2.9x the second. So in float32
// the bound is 1e-6 or kRoundingFactor times the batch's own row-order difference, whichever is
// larger (float32_noise below). One intra-op thread is pinned (Model() below) so that the
// rounding, and the verdict, are the same on every run.
constexpr double kFloat64Tolerance = 1e-6;
constexpr double kFloat32Tolerance = 1e-6;
constexpr double kRoundingFactor = 4.0;

BloomForSequenceClassification Model(uint64_t seed = 3, torch::ScalarType dtype = torch::kFloat32) {
  torch::set_num_threads(1);
  torch::manual_seed(seed);
  BloomForSequenceClassification model(testing::TinyConfig(), 3);
  model->to(dtype);
  return model;
}

// Lengths vary, so micro-batches pad differently from the single batch.
const train::TokenizedSplit& Examples() {
  static const train::TokenizedSplit split = testing::RandomSplit(
      {5, 17, 9, 30, 2, 12, 21, 8, 14, 3, 26, 11, 6, 19, 7, 4, 23, 10, 15, 1, 28, 13, 9, 16}, 3,
      11);
  return split;
}

std::vector<MicroBatch> Collate(const std::vector<std::vector<std::size_t>>& groups) {
  std::vector<MicroBatch> batches;
  for (const auto& indices : groups) {
    batches.push_back(train::CollateMicroBatch(Examples(), indices, torch::kCPU));
  }
  return batches;
}

Gradients GradientsOf(BloomForSequenceClassification& model,
                      const std::vector<std::vector<std::size_t>>& groups, int64_t divisor,
                      bool bf16_autocast = false) {
  model->zero_grad();
  train::AccumulateWindow(*model, Collate(groups), divisor, nullptr, train::StepPrecision{bf16_autocast});
  Gradients gradients;
  for (const auto& item : model->named_parameters()) {
    gradients.emplace_back(item.key(), item.value().grad().clone());
  }
  return gradients;
}

// The largest per-tensor relative difference.
// Also recorded as a test property (in --gtest_output=xml) to keep an eye on the margin.
double WorstRelativeDifference(const Gradients& a, const Gradients& b, std::string* worst_name) {
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double difference = testing::RelativeMaxDifference(a[i].second, b[i].second);
    if (difference > worst) {
      worst = difference;
      *worst_name = a[i].first;
    }
  }
  std::ostringstream text;
  text << worst;
  ::testing::Test::RecordProperty("worst_relative_difference", text.str());
  ::testing::Test::RecordProperty("worst_tensor", *worst_name);
  return worst;
}

const std::vector<std::vector<std::size_t>> kFourMicroBatchesOfTwo = {
    {0, 1}, {2, 3}, {4, 5}, {6, 7}};
const std::vector<std::vector<std::size_t>> kOneBatchOfEight = {{0, 1, 2, 3, 4, 5, 6, 7}};
const std::vector<std::vector<std::size_t>> kShortWindow = {{0, 1}, {2, 3}, {4, 5}, {6}};
const std::vector<std::vector<std::size_t>> kOneBatchOfSeven = {{0, 1, 2, 3, 4, 5, 6}};

// Runs each exactness test in float32 (what training uses) and float64 (exact math).
class AccumulationExactnessTest : public ::testing::TestWithParam<torch::ScalarType> {
 protected:
  torch::ScalarType dtype() const { return GetParam(); }
  double tolerance() const {
    return dtype() == torch::kFloat64 ? kFloat64Tolerance : kFloat32Tolerance;
  }
};

// The float32 rounding floor of one batch: its gradient against the same batch with its rows in
// reverse order (the same math), as the worst per-tensor relative difference.
double RowOrderNoise(BloomForSequenceClassification& model, const std::vector<std::size_t>& batch,
                     const Gradients& single) {
  const std::vector<std::size_t> reversed(batch.rbegin(), batch.rend());
  std::string name;
  return WorstRelativeDifference(
      GradientsOf(model, {reversed}, static_cast<int64_t>(batch.size())), single, &name);
}

TEST_P(AccumulationExactnessTest, MicroBatchesOfTwoGiveTheGradientOfOneBatchOfEight) {
  auto model = Model(3, dtype());
  const Gradients accumulated = GradientsOf(model, kFourMicroBatchesOfTwo, 8);
  const Gradients single = GradientsOf(model, kOneBatchOfEight, 8);
  const double noise = RowOrderNoise(model, kOneBatchOfEight[0], single);
  const double bound =
      dtype() == torch::kFloat64 ? tolerance() : std::max(tolerance(), kRoundingFactor * noise);
  std::string worst_name;
  EXPECT_LE(WorstRelativeDifference(accumulated, single, &worst_name), bound)
      << worst_name << " (row-order noise " << noise << ")";
  EXPECT_LT(noise, 1e-5);  // float32 rounding, not a model that depends on row order
  // Not vacuous: the gradients are there.
  EXPECT_GT(single.back().second.abs().max().item<double>(), 1e-4);
}

TEST_P(AccumulationExactnessTest, ShortLastWindowGivesTheGradientOfItsExamples) {
  auto model = Model(3, dtype());
  const Gradients accumulated = GradientsOf(model, kShortWindow, 7);
  const Gradients single = GradientsOf(model, kOneBatchOfSeven, 7);
  const double noise = RowOrderNoise(model, kOneBatchOfSeven[0], single);
  const double bound =
      dtype() == torch::kFloat64 ? tolerance() : std::max(tolerance(), kRoundingFactor * noise);
  std::string worst_name;
  EXPECT_LE(WorstRelativeDifference(accumulated, single, &worst_name), bound)
      << worst_name << " (row-order noise " << noise << ")";
}

// bf16 autocast: the accumulated window still gives the batch's gradient, within bfloat16's
// precision (2e-2 of the largest |gradient| of each tensor), and it really ran in bfloat16 (the
// gradients differ from float32's).
TEST(AccumulationTest, Bf16AutocastWindowGivesTheBatchGradientWithinBf16Precision) {
  auto model = Model();
  const Gradients accumulated = GradientsOf(model, kFourMicroBatchesOfTwo, 8, true);
  const Gradients single = GradientsOf(model, kOneBatchOfEight, 8, true);
  const Gradients fp32 = GradientsOf(model, kOneBatchOfEight, 8, false);
  std::string worst_name;
  EXPECT_LE(WorstRelativeDifference(accumulated, single, &worst_name), 2e-2) << worst_name;
  EXPECT_LE(WorstRelativeDifference(single, fp32, &worst_name), 5e-2) << worst_name;
  EXPECT_GT(WorstRelativeDifference(single, fp32, &worst_name), 1e-5);
  for (const auto& [name, gradient] : accumulated) {
    EXPECT_EQ(gradient.scalar_type(), torch::kFloat32) << name;  // weights stay float32
  }
  // A mis-scaled bf16 window is still caught.
  const Gradients wrong = GradientsOf(model, kFourMicroBatchesOfTwo, 2, true);
  EXPECT_GT(WorstRelativeDifference(wrong, single, &worst_name), 0.5);
}

// A loss divided by the micro-batch size instead of the window size: the comparison must fail.
TEST(AccumulationTest, LossScaledByMicroBatchSizeIsCaught) {
  auto model = Model();
  const Gradients wrong = GradientsOf(model, kFourMicroBatchesOfTwo, 2);
  const Gradients single = GradientsOf(model, kOneBatchOfEight, 8);
  std::string worst_name;
  EXPECT_GT(WorstRelativeDifference(wrong, single, &worst_name), 0.5);
}

// The classic mistake, mean per micro-batch / accumulation steps, is right only when all
// micro-batches are full; on the 2+2+2+1 window it weights the lone example twice.
TEST(AccumulationTest, MeanPerMicroBatchOverStepsIsCaughtOnAShortWindow) {
  namespace F = torch::nn::functional;
  auto model = Model();
  model->zero_grad();
  for (const MicroBatch& batch : Collate(kShortWindow)) {
    const auto logits = model->forward(batch.input_ids, batch.attention_mask);
    (F::cross_entropy(logits, batch.labels) / 4.0).backward();
  }
  Gradients wrong;
  for (const auto& item : model->named_parameters()) {
    wrong.emplace_back(item.key(), item.value().grad().clone());
  }
  const Gradients single = GradientsOf(model, kOneBatchOfSeven, 7);
  std::string worst_name;
  EXPECT_GT(WorstRelativeDifference(wrong, single, &worst_name), 1e-3);
}

// Parameters after three SGD steps (windows of 8, 8 and 7 examples) with micro-batches of 2
// (4 + 4 + 4 micro-batches, the last one short) or of 8 (one per window).
Gradients SgdParametersAfterThreeSteps(int64_t micro_batch_size, torch::ScalarType dtype,
                                       double learning_rate = 0.5) {
  auto model = Model(5, dtype);
  torch::optim::SGD sgd(model->parameters(), torch::optim::SGDOptions(learning_rate));
  const std::size_t window = 8;
  const std::size_t examples = 23;
  for (std::size_t begin = 0; begin < examples; begin += window) {
    const std::size_t end = std::min(examples, begin + window);
    std::vector<std::vector<std::size_t>> groups;
    for (std::size_t first = begin; first < end; first += micro_batch_size) {
      std::vector<std::size_t> group;
      for (std::size_t i = first; i < std::min<std::size_t>(end, first + micro_batch_size); ++i) {
        group.push_back(i);
      }
      groups.push_back(group);
    }
    sgd.zero_grad();
    train::AccumulateWindow(*model, Collate(groups), static_cast<int64_t>(end - begin));
    sgd.step();
  }
  Gradients parameters;
  for (const auto& item : model->named_parameters()) {
    parameters.emplace_back(item.key(), item.value().detach().clone());
  }
  return parameters;
}

// What the three steps changed, per parameter: the part the accumulation produced (comparing the
// parameters themselves would hide differences behind the initial values).
Gradients ChangeFromInitial(const Gradients& parameters, torch::ScalarType dtype) {
  auto initial_model = Model(5, dtype);
  const auto initial = initial_model->named_parameters();
  Gradients change;
  for (const auto& [name, value] : parameters) change.emplace_back(name, value - initial[name]);
  return change;
}

// In float32 the first step's rounding differences feed into the next two steps (~7e-6 observed
// relative to each parameter's change), hence a wider float32 bound here.
TEST_P(AccumulationExactnessTest, SgdStepsAgreeForBothWindowShapes) {
  const auto accumulated = ChangeFromInitial(SgdParametersAfterThreeSteps(2, dtype()), dtype());
  const auto single = ChangeFromInitial(SgdParametersAfterThreeSteps(8, dtype()), dtype());
  const double bound = dtype() == torch::kFloat64 ? kFloat64Tolerance : 5e-5;
  std::string worst_name;
  EXPECT_LE(WorstRelativeDifference(accumulated, single, &worst_name), bound) << worst_name;
  EXPECT_GT(single.back().second.abs().max().item<double>(), 1e-3);
}

// The acceptance criterion on the parameters themselves: after the SGD steps, max |difference| is
// at most 1e-6 times the largest |parameter| of each tensor. A step's float32 rounding difference
// changes the next step's gradient in proportion to the learning rate, so with lr 0.5 the
// zero-initialised biases drift to ~2.5e-6 after three steps. At lr 0.05 the worst tensor sat at
// 6.4e-7, and at 1.01e-6 once the last block computed only the pooled rows (same math, other
// matmul shapes, so other rounding): the bar is at float32 noise for zero-initialised biases.
// lr 0.03 (still moving every tensor) keeps that drift below the rounding of a single step.
TEST_P(AccumulationExactnessTest, SgdParametersAgreeWithinOneMillionth) {
  const auto accumulated = SgdParametersAfterThreeSteps(2, dtype(), 0.03);
  const auto single = SgdParametersAfterThreeSteps(8, dtype(), 0.03);
  std::string worst_name;
  EXPECT_LE(WorstRelativeDifference(accumulated, single, &worst_name), 1e-6) << worst_name;
  // The steps did move the parameters: this is not the agreement of two untouched models.
  const auto changed = ChangeFromInitial(single, dtype());
  EXPECT_GT(changed.back().second.abs().max().item<double>(), 1e-4);
}

INSTANTIATE_TEST_SUITE_P(Dtypes, AccumulationExactnessTest,
                         ::testing::Values(torch::kFloat32, torch::kFloat64),
                         [](const ::testing::TestParamInfo<torch::ScalarType>& info) {
                           return info.param == torch::kFloat64 ? "Float64" : "Float32";
                         });

TEST(AccumulationTest, StopRequestIsPolledBeforeEachMicroBatch) {
  auto model = Model();
  int polls = 0;
  const auto result = train::AccumulateWindow(*model, Collate(kFourMicroBatchesOfTwo), 8,
                                              [&polls] { return ++polls == 3; });
  EXPECT_TRUE(result.stopped);
  EXPECT_EQ(polls, 3);
}

TEST(AccumulationTest, LossSumIsTheSummedPerExampleLoss) {
  namespace F = torch::nn::functional;
  auto model = Model();
  const auto result = train::AccumulateWindow(*model, Collate(kShortWindow), 7);
  torch::NoGradGuard no_grad;
  const MicroBatch all = Collate(kOneBatchOfSeven)[0];
  const double expected =
      F::cross_entropy(model->forward(all.input_ids, all.attention_mask), all.labels)
          .item<double>() *
      7;
  EXPECT_NEAR(result.loss_sum.item<double>(), expected, 1e-4);
}

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
  auto model = Model();
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
  auto model = Model();
  const auto report =
      train::Evaluate(*model, Examples(), {4, 0}, torch::kCPU, 0, [] { return true; });
  EXPECT_FALSE(report.has_value());
}

}  // namespace
}  // namespace ft
