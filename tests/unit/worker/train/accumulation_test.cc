// Exactness of gradient accumulation: a window of micro-batches gives the gradient of one batch
// of all its examples, through the same AccumulateWindow the trainer uses.
//
// How a verdict is reached. The acceptance criterion is max |a - b| <= 1e-6 * max |b| for every
// tensor. float64 meets it with ~8 orders of magnitude to spare, and there it is the bound. In
// float32 the accumulated window and the single batch round differently (other matrix shapes,
// other summation order), and on this tiny model that rounding alone is of order 1e-6, more or
// less with the machine's kernels, the thread count and the buffers' alignment. A fixed float32
// bound would judge the machine, not the code. So each float32 test measures the rounding noise
// of its own reference computation, by recomputing it with the rows of every batch in two other
// orders (the same math, rounded differently), and bounds the difference by kRoundingFactor times
// that noise, or by 1e-6 where that is larger. Every test prints the difference beside the noise,
// and checks that a mis-scaled loss misses its bound by orders of magnitude.
//
// CTest runs each test of this file in its own process (tests/unit/worker/CMakeLists.txt), and
// TinyBloomClassifier pins the process-wide thread counts, so no test sees state another left.
#include <gtest/gtest.h>
#include <torch/nn/functional/loss.h>
#include <torch/optim/sgd.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "tests/unit/worker/torch_test_util.h"
#include "worker/data/micro_batch.h"
#include "worker/models/bloom_model.h"
#include "worker/train/train_step.h"

namespace ft {
namespace {

using models::BloomForSequenceClassification;
using testing::TinyBloomClassifier;
using train::MicroBatch;

constexpr double kCriterion = 1e-6;
// Measured over 40 seeds with one and with two threads (torch and OpenBLAS), the accumulated
// difference reached at most 2.0x the noise defined below (median 1.0x); 4 leaves room without
// hiding a real error: a mis-scaled loss lands a million times or more above the noise.
constexpr double kRoundingFactor = 4.0;
// Row order changes float32 results by rounding only: far more means the model mixes rows.
constexpr double kNoiseCeiling = 1e-4;

// Tensors named, so that a failure says which.
using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;
// The micro-batches of a window, as indices into Examples().
using Groups = std::vector<std::vector<std::size_t>>;

// Lengths vary, so micro-batches pad differently from the single batch.
const train::TokenizedSplit& Examples() { return testing::MixedLengthSplit(); }

const Groups kFourMicroBatchesOfTwo = {{0, 1}, {2, 3}, {4, 5}, {6, 7}};
const Groups kOneBatchOfEight = {{0, 1, 2, 3, 4, 5, 6, 7}};
const Groups kShortWindow = {{0, 1}, {2, 3}, {4, 5}, {6}};
const Groups kOneBatchOfSeven = {{0, 1, 2, 3, 4, 5, 6}};

// The rows of every micro-batch in another order: the same math, rounded differently. Rounding
// differences come in whole units of the last place, so one reordering can land on a lucky
// small one: the noise is the largest of several.
enum class RowOrder { kAsGiven, kReversed, kRotatedByHalf, kRotatedByOne, kEvensThenOdds };
constexpr RowOrder kNoiseOrders[] = {RowOrder::kReversed, RowOrder::kRotatedByHalf,
                                     RowOrder::kRotatedByOne, RowOrder::kEvensThenOdds};

std::vector<std::size_t> Reorder(std::vector<std::size_t> rows, RowOrder order) {
  const auto rotate = [&rows](std::size_t by) {
    std::rotate(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(by % rows.size()),
                rows.end());
  };
  switch (order) {
    case RowOrder::kAsGiven:
      break;
    case RowOrder::kReversed:
      std::reverse(rows.begin(), rows.end());
      break;
    case RowOrder::kRotatedByHalf:
      rotate(rows.size() / 2);
      break;
    case RowOrder::kRotatedByOne:
      rotate(1);
      break;
    case RowOrder::kEvensThenOdds: {
      std::vector<std::size_t> reordered;
      for (std::size_t start : {0, 1}) {
        for (std::size_t i = start; i < rows.size(); i += 2) reordered.push_back(rows[i]);
      }
      return reordered;
    }
  }
  return rows;
}

Groups Reorder(Groups groups, RowOrder order) {
  for (auto& group : groups) group = Reorder(group, order);
  return groups;
}

std::vector<MicroBatch> Collate(const Groups& groups) {
  std::vector<MicroBatch> batches;
  for (const auto& indices : groups) {
    batches.push_back(train::CollateMicroBatch(Examples(), indices, torch::kCPU));
  }
  return batches;
}

NamedTensors GradientsOf(BloomForSequenceClassification& model, const Groups& groups,
                         int64_t divisor, bool bf16_autocast = false) {
  model->zero_grad();
  train::AccumulateWindow(*model, Collate(groups), divisor, nullptr,
                          train::StepPrecision{bf16_autocast});
  NamedTensors gradients;
  for (const auto& item : model->named_parameters()) {
    gradients.emplace_back(item.key(), item.value().grad().clone());
  }
  return gradients;
}

struct Worst {
  double difference = 0;
  std::string tensor;
  double bound = 1;  // that tensor's bound, when bounds were given
};

// The tensor whose relative difference, max |a - b| / max |b|, is largest; given a bound per
// tensor, the one closest to (or furthest past) its bound.
Worst WorstRelativeDifference(const NamedTensors& a, const NamedTensors& b,
                              const std::vector<double>& bounds = {}) {
  Worst worst;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double difference = testing::RelativeMaxDifference(a[i].second, b[i].second);
    const double bound = bounds.empty() ? 1.0 : bounds[i];
    if (difference / bound > worst.difference / worst.bound) worst = {difference, a[i].first, bound};
  }
  return worst;
}

// How far the reference moves when recomputed with its rows in other orders.
template <typename Compute>  // NamedTensors(RowOrder)
double RoundingNoise(const NamedTensors& reference, const Compute& compute) {
  double noise = 0;
  for (const RowOrder order : kNoiseOrders) {
    noise = std::max(noise, WorstRelativeDifference(compute(order), reference).difference);
  }
  return noise;
}

double Bound(torch::ScalarType dtype, double noise) {
  return dtype == torch::kFloat64 ? kCriterion : std::max(kCriterion, kRoundingFactor * noise);
}

std::string Text(double value) {
  std::ostringstream text;
  text << value;
  return text.str();
}

// The verdict, with the measured figures in the output and in --gtest_output=xml. `floors`, when
// given, raises the bound of each tensor to at least its entry.
void ExpectAgreement(const NamedTensors& result, const NamedTensors& reference,
                     torch::ScalarType dtype, double noise, const std::vector<double>& floors = {}) {
  std::vector<double> bounds;
  for (std::size_t i = 0; i < result.size(); ++i) {
    bounds.push_back(std::max(Bound(dtype, noise), floors.empty() ? 0.0 : floors[i]));
  }
  const Worst worst = WorstRelativeDifference(result, reference, bounds);
  std::printf("[ measured ] %s: difference %.3g (%s), rounding noise %.3g, bound %.3g\n",
              dtype == torch::kFloat64 ? "float64" : "float32", worst.difference,
              worst.tensor.c_str(), noise, worst.bound);
  ::testing::Test::RecordProperty("difference", Text(worst.difference));
  ::testing::Test::RecordProperty("worst_tensor", worst.tensor);
  ::testing::Test::RecordProperty("rounding_noise", Text(noise));
  ::testing::Test::RecordProperty("bound", Text(worst.bound));
  EXPECT_LE(worst.difference, worst.bound) << worst.tensor << " (rounding noise " << noise << ")";
  EXPECT_LT(noise, kNoiseCeiling);
}

// A deliberately wrong result must miss the same bound, by a wide margin.
void ExpectCaught(const NamedTensors& wrong, const NamedTensors& reference,
                  torch::ScalarType dtype, double noise) {
  const Worst worst = WorstRelativeDifference(wrong, reference);
  std::printf("[ measured ] mis-scaled: difference %.3g (%s)\n", worst.difference,
              worst.tensor.c_str());
  EXPECT_GT(worst.difference, 100 * Bound(dtype, noise)) << worst.tensor;
}

// Runs each exactness test in float32 (what training uses) and float64 (exact math).
class AccumulationExactnessTest : public ::testing::TestWithParam<torch::ScalarType> {
 protected:
  torch::ScalarType dtype() const { return GetParam(); }

  // A window against one batch of the same examples, and the loss divided by the micro-batch
  // size instead of the window's example count (the scaling mistake) against it too.
  void ExpectWindowGivesTheBatchGradient(const Groups& window, const Groups& batch) {
    auto model = TinyBloomClassifier(3, dtype());
    const auto examples = static_cast<int64_t>(batch[0].size());
    const NamedTensors single = GradientsOf(model, batch, examples);
    const double noise = RoundingNoise(single, [&](RowOrder order) {
      return GradientsOf(model, Reorder(batch, order), examples);
    });
    ExpectAgreement(GradientsOf(model, window, examples), single, dtype(), noise);
    ExpectCaught(GradientsOf(model, window, static_cast<int64_t>(window[0].size())), single,
                 dtype(), noise);
    // Not vacuous: the gradients are there.
    EXPECT_GT(single.back().second.abs().max().item<double>(), 1e-4);
  }
};

TEST_P(AccumulationExactnessTest, MicroBatchesOfTwoGiveTheGradientOfOneBatchOfEight) {
  ExpectWindowGivesTheBatchGradient(kFourMicroBatchesOfTwo, kOneBatchOfEight);
}

TEST_P(AccumulationExactnessTest, ShortLastWindowGivesTheGradientOfItsExamples) {
  ExpectWindowGivesTheBatchGradient(kShortWindow, kOneBatchOfSeven);
}

// Three SGD steps over 23 examples in windows of 8, 8 and 7 (the last one short), with
// micro-batches of the given size.
struct SgdRun {
  int64_t micro_batch_size = 8;
  RowOrder order = RowOrder::kAsGiven;
  bool loss_by_micro_batch_size = false;  // the scaling mistake
};

NamedTensors SgdParametersAfterThreeSteps(torch::ScalarType dtype, const SgdRun& run) {
  constexpr double kLearningRate = 0.5;
  constexpr std::size_t kWindow = 8;
  constexpr std::size_t kExamples = 23;
  auto model = TinyBloomClassifier(5, dtype);
  torch::optim::SGD sgd(model->parameters(), torch::optim::SGDOptions(kLearningRate));
  const auto micro = static_cast<std::size_t>(run.micro_batch_size);
  for (std::size_t begin = 0; begin < kExamples; begin += kWindow) {
    const std::size_t end = std::min(kExamples, begin + kWindow);
    Groups groups;
    for (std::size_t first = begin; first < end; first += micro) {
      std::vector<std::size_t> group;
      for (std::size_t i = first; i < std::min(end, first + micro); ++i) group.push_back(i);
      groups.push_back(group);
    }
    sgd.zero_grad();
    const auto divisor = static_cast<int64_t>(run.loss_by_micro_batch_size ? micro : end - begin);
    train::AccumulateWindow(*model, Collate(Reorder(groups, run.order)), divisor);
    sgd.step();
  }
  NamedTensors parameters;
  for (const auto& item : model->named_parameters()) {
    parameters.emplace_back(item.key(), item.value().detach().clone());
  }
  return parameters;
}

// What the steps changed, per parameter: the part the accumulation produced (the parameters
// themselves hide differences behind their initial values).
NamedTensors ChangeFromInitial(const NamedTensors& parameters, torch::ScalarType dtype) {
  auto initial_model = TinyBloomClassifier(5, dtype);
  const auto initial = initial_model->named_parameters();
  NamedTensors change;
  for (const auto& [name, value] : parameters) change.emplace_back(name, value - initial[name]);
  return change;
}

// The acceptance criterion on the parameters themselves: after three SGD steps, micro-batches of
// 2 against one batch per window.
TEST_P(AccumulationExactnessTest, SgdParametersAgree) {
  const NamedTensors single = SgdParametersAfterThreeSteps(dtype(), {8});
  const double noise = RoundingNoise(single, [&](RowOrder order) {
    return SgdParametersAfterThreeSteps(dtype(), {8, order});
  });
  ExpectAgreement(SgdParametersAfterThreeSteps(dtype(), {2}), single, dtype(), noise);
  ExpectCaught(SgdParametersAfterThreeSteps(dtype(), {2, RowOrder::kAsGiven, true}), single,
               dtype(), noise);
  // The steps did move the parameters: this is not the agreement of two untouched models.
  EXPECT_GT(ChangeFromInitial(single, dtype()).back().second.abs().max().item<double>(), 1e-3);
}

// float32 stores each parameter to one unit in the last place (ulp) of its magnitude, and each of
// the three steps rounds it, so two runs' updates can differ by a few ulps of the parameter
// whatever the accumulation did: per tensor, kSteps ulps of its largest |parameter| relative to
// its largest |update|. For LayerNorm weights near 1 with updates of ~1e-3 this is ~4e-4, above
// what reordering rows samples of the update's own rounding (ulps are discrete, and a few runs
// can all land on one).
std::vector<double> StorageFloors(const NamedTensors& parameters, const NamedTensors& updates,
                                  torch::ScalarType dtype) {
  constexpr int kSteps = 3;
  std::vector<double> floors;
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    const auto largest = static_cast<float>(parameters[i].second.abs().max().item<double>());
    const double ulp = std::nextafter(largest, INFINITY) - largest;
    const double update = updates[i].second.abs().max().item<double>();
    floors.push_back(dtype == torch::kFloat64 || update == 0 ? 0.0 : kSteps * ulp / update);
  }
  return floors;
}

// The same runs judged on what the steps changed, a stricter view for tensors whose values
// dwarf their updates.
TEST_P(AccumulationExactnessTest, SgdUpdatesAgree) {
  const auto change = [&](const SgdRun& run) {
    return ChangeFromInitial(SgdParametersAfterThreeSteps(dtype(), run), dtype());
  };
  const NamedTensors parameters = SgdParametersAfterThreeSteps(dtype(), {8});
  const NamedTensors single = ChangeFromInitial(parameters, dtype());
  const double noise =
      RoundingNoise(single, [&](RowOrder order) { return change({8, order}); });
  ExpectAgreement(change({2}), single, dtype(), noise, StorageFloors(parameters, single, dtype()));
  ExpectCaught(change({2, RowOrder::kAsGiven, true}), single, dtype(), noise);
}

INSTANTIATE_TEST_SUITE_P(Dtypes, AccumulationExactnessTest,
                         ::testing::Values(torch::kFloat32, torch::kFloat64),
                         [](const ::testing::TestParamInfo<torch::ScalarType>& info) {
                           return info.param == torch::kFloat64 ? "Float64" : "Float32";
                         });

// bf16 autocast: the accumulated window still gives the batch's gradient, within bfloat16's
// precision (2e-2 of the largest |gradient| of each tensor, ~5 units of bf16's 2^-8), and it
// really ran in bfloat16 (the gradients differ from float32's).
TEST(AccumulationTest, Bf16AutocastWindowGivesTheBatchGradientWithinBf16Precision) {
  auto model = TinyBloomClassifier();
  const NamedTensors accumulated = GradientsOf(model, kFourMicroBatchesOfTwo, 8, true);
  const NamedTensors single = GradientsOf(model, kOneBatchOfEight, 8, true);
  const NamedTensors fp32 = GradientsOf(model, kOneBatchOfEight, 8, false);
  EXPECT_LE(WorstRelativeDifference(accumulated, single).difference, 2e-2);
  EXPECT_LE(WorstRelativeDifference(single, fp32).difference, 5e-2);
  EXPECT_GT(WorstRelativeDifference(single, fp32).difference, 1e-5);
  for (const auto& [name, gradient] : accumulated) {
    EXPECT_EQ(gradient.scalar_type(), torch::kFloat32) << name;  // weights stay float32
  }
  // A mis-scaled bf16 window is still caught.
  const NamedTensors wrong = GradientsOf(model, kFourMicroBatchesOfTwo, 2, true);
  EXPECT_GT(WorstRelativeDifference(wrong, single).difference, 0.5);
}

// The classic mistake, mean per micro-batch / accumulation steps, is right only when all
// micro-batches are full; on the 2+2+2+1 window it weights the lone example twice.
TEST(AccumulationTest, MeanPerMicroBatchOverStepsIsCaughtOnAShortWindow) {
  namespace F = torch::nn::functional;
  auto model = TinyBloomClassifier();
  model->zero_grad();
  for (const MicroBatch& batch : Collate(kShortWindow)) {
    const auto logits = model->forward(batch.input_ids, batch.attention_mask);
    (F::cross_entropy(logits, batch.labels) / 4.0).backward();
  }
  NamedTensors wrong;
  for (const auto& item : model->named_parameters()) {
    wrong.emplace_back(item.key(), item.value().grad().clone());
  }
  const NamedTensors single = GradientsOf(model, kOneBatchOfSeven, 7);
  EXPECT_GT(WorstRelativeDifference(wrong, single).difference, 1e-3);
}

TEST(AccumulationTest, StopRequestIsPolledBeforeEachMicroBatch) {
  auto model = TinyBloomClassifier();
  int polls = 0;
  const auto result = train::AccumulateWindow(*model, Collate(kFourMicroBatchesOfTwo), 8,
                                              [&polls] { return ++polls == 3; });
  EXPECT_TRUE(result.stopped);
  EXPECT_EQ(polls, 3);
}

TEST(AccumulationTest, LossSumIsTheSummedPerExampleLoss) {
  namespace F = torch::nn::functional;
  auto model = TinyBloomClassifier();
  const auto result = train::AccumulateWindow(*model, Collate(kShortWindow), 7);
  torch::NoGradGuard no_grad;
  const MicroBatch all = Collate(kOneBatchOfSeven)[0];
  const double expected =
      F::cross_entropy(model->forward(all.input_ids, all.attention_mask), all.labels)
          .item<double>() *
      7;
  EXPECT_NEAR(result.loss_sum.item<double>(), expected, 1e-5 * expected);
}

}  // namespace
}  // namespace ft
