// CPU replicas (worker/train/cpu_replicas.h): each micro-batch's rows split between replicas of
// the model on their own threads give the window's gradient as one model does (float64: to
// rounding; the bound is the accumulation tests' 1e-6 of each tensor's largest value), SGD steps
// included (the replicas see every update of the model's weights), with short windows and
// single-row micro-batches, for a classifier and a causal LM; and the same bits on every run.
// With LoRA dropout each replica draws its own masks, seeded from the job's generator: the same
// bits on every run, other masks on each replica, replayed by activation checkpointing.
#include <gtest/gtest.h>
#include <torch/optim/sgd.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include "common/models/model_catalog.h"
#include "common/models/model_config.h"
#include "tests/unit/worker/torch_test_util.h"
#include "worker/adapters/lora_model.h"
#include "worker/data/micro_batch.h"
#include "worker/models/model_loader.h"
#include "worker/models/thread_generator.h"
#include "worker/train/compute_threads.h"
#include "worker/train/cpu_replicas.h"
#include "worker/train/train_step.h"

namespace ft {
namespace {

using train::CpuReplicas;
using train::MicroBatch;
using Groups = std::vector<std::vector<std::size_t>>;

constexpr double kCriterion = 1e-6;

// Three windows: 2 x 4 rows, 3 + 1 rows (a single row is not split), and a short one of 3.
const std::vector<Groups> kWindows = {
    {{0, 1, 2, 3}, {4, 5, 6, 7}}, {{8, 9, 10}, {11}}, {{12, 13, 14}}};

std::vector<MicroBatch> Collate(const Groups& groups) {
  std::vector<MicroBatch> batches;
  for (const auto& indices : groups) {
    batches.push_back(train::CollateMicroBatch(testing::MixedLengthSplit(), indices, torch::kCPU));
  }
  return batches;
}

// A causal LM's micro-batch: right-padded rows of `lengths` tokens whose first `prompt` tokens
// are not targets.
MicroBatch CausalBatch(const std::vector<int64_t>& lengths, int64_t prompt, uint64_t seed) {
  torch::manual_seed(seed);
  int64_t longest = 0;
  for (int64_t length : lengths) longest = std::max(longest, length);
  const auto rows = static_cast<int64_t>(lengths.size());
  MicroBatch batch;
  batch.input_ids = torch::randint(4, 200, {rows, longest}, torch::kLong);
  batch.attention_mask = torch::zeros({rows, longest}, torch::kLong);
  batch.labels = torch::full({rows, longest}, train::kIgnoredLabel, torch::kLong);
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t length = lengths[static_cast<std::size_t>(r)];
    batch.attention_mask[r].narrow(0, 0, length).fill_(1);
    batch.input_ids[r].narrow(0, length, longest - length).fill_(0);
    batch.labels[r].narrow(0, prompt, length - prompt).copy_(
        batch.input_ids[r].narrow(0, prompt, length - prompt));
    batch.tokens += length;
    batch.targets += length - prompt;
  }
  batch.examples = rows;
  return batch;
}

std::vector<std::vector<MicroBatch>> ClassifierWindows() {
  std::vector<std::vector<MicroBatch>> windows;
  for (const Groups& groups : kWindows) windows.push_back(Collate(groups));
  return windows;
}

std::vector<std::vector<MicroBatch>> CausalWindows() {
  return {{CausalBatch({9, 4, 12, 7}, 2, 1), CausalBatch({5, 11, 3}, 2, 2)},
          {CausalBatch({6}, 2, 3), CausalBatch({10, 8}, 3, 4)}};
}

models::TrainableModel Build(const std::string& scratch, models::ModelTask task,
                             torch::ScalarType dtype, uint64_t seed) {
  torch::manual_seed(seed);
  models::TrainableModel model =
      models::BuildArchitecture(models::ScratchModelConfig(models::FindScratchModel(scratch)->bloom),
                                3, task);
  model->to(dtype);
  return model;
}

struct Trained {
  std::vector<std::vector<torch::Tensor>> gradients;  // each window's
  std::vector<torch::Tensor> parameters;               // after the last SGD step
};

// SGD over `windows`; with `replicas` > 1 through CpuReplicas (the extra replicas built from
// other seeds: their own weights must not matter).
Trained Train(const std::string& scratch, models::ModelTask task, torch::ScalarType dtype,
              const std::vector<std::vector<MicroBatch>>& windows, int replicas) {
  train::SetComputeThreads(2);
  models::TrainableModel model = Build(scratch, task, dtype, 7);
  std::unique_ptr<CpuReplicas> split;
  if (replicas > 1) {
    std::vector<models::TrainableModel> extra;
    for (int r = 1; r < replicas; ++r) extra.push_back(Build(scratch, task, dtype, 100 + r));
    split = std::make_unique<CpuReplicas>(*model, std::move(extra), 2);
  }
  torch::optim::SGD sgd(model->parameters(), torch::optim::SGDOptions(0.5));
  Trained trained;
  for (const std::vector<MicroBatch>& window : windows) {
    sgd.zero_grad();
    const int64_t divisor = train::WindowLossTerms(window);
    if (split) {
      split->AccumulateWindow(window, divisor);
    } else {
      train::AccumulateWindow(*model, window, divisor);
    }
    std::vector<torch::Tensor> gradients;
    for (const torch::Tensor& p : model->parameters()) gradients.push_back(p.grad().clone());
    trained.gradients.push_back(gradients);
    sgd.step();
  }
  for (const torch::Tensor& p : model->parameters()) trained.parameters.push_back(p.detach().clone());
  return trained;
}

double WorstRelative(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    worst = std::max(worst, testing::RelativeMaxDifference(a[i], b[i]));
  }
  return worst;
}

void ExpectSameTraining(const std::string& scratch, models::ModelTask task,
                        const std::vector<std::vector<MicroBatch>>& windows) {
  const Trained one = Train(scratch, task, torch::kFloat64, windows, 1);
  for (int replicas : {2, 3}) {
    const Trained split = Train(scratch, task, torch::kFloat64, windows, replicas);
    double gradients = 0;
    for (std::size_t w = 0; w < windows.size(); ++w) {
      gradients = std::max(gradients, WorstRelative(split.gradients[w], one.gradients[w]));
    }
    const double parameters = WorstRelative(split.parameters, one.parameters);
    std::printf("[ measured ] %s, %d replicas vs one model, float64: gradients %.3g, parameters "
                "after %zu SGD steps %.3g\n",
                scratch.c_str(), replicas, gradients, windows.size(), parameters);
    EXPECT_LE(gradients, kCriterion) << replicas << " replicas";
    EXPECT_LE(parameters, kCriterion) << replicas << " replicas";
  }
}

TEST(RowSlicesTest, ContiguousNearEqualPartsWithoutEmptyOnes) {
  using Slices = std::vector<std::pair<int64_t, int64_t>>;
  EXPECT_EQ(train::RowSlices(8, 2), (Slices{{0, 4}, {4, 8}}));
  EXPECT_EQ(train::RowSlices(7, 2), (Slices{{0, 4}, {4, 7}}));
  EXPECT_EQ(train::RowSlices(5, 3), (Slices{{0, 2}, {2, 4}, {4, 5}}));
  EXPECT_EQ(train::RowSlices(1, 2), (Slices{{0, 1}}));
}

TEST(SliceRowsTest, DropsColumnsPaddedInEveryRowAndCountsItsOwn) {
  // Lengths 5, 17, 9, 30: the second half's longest is 30, the first half's 17.
  const MicroBatch batch = Collate({{0, 1, 2, 3}})[0];
  ASSERT_EQ(batch.input_ids.size(1), 30);
  const MicroBatch first = train::SliceRows(batch, 0, 2);
  EXPECT_EQ(first.input_ids.sizes(), (std::vector<int64_t>{2, 17}));
  EXPECT_EQ(first.attention_mask.sizes(), (std::vector<int64_t>{2, 17}));
  EXPECT_TRUE(torch::equal(first.input_ids, batch.input_ids.narrow(0, 0, 2).narrow(1, 0, 17)));
  EXPECT_TRUE(torch::equal(first.labels, batch.labels.narrow(0, 0, 2)));
  EXPECT_EQ(first.tokens, 5 + 17);
  EXPECT_EQ(first.examples, 2);
  EXPECT_EQ(first.targets, 2);
  const MicroBatch second = train::SliceRows(batch, 2, 4);
  EXPECT_EQ(second.input_ids.size(1), 30);
  EXPECT_EQ(second.tokens, 9 + 30);

  const MicroBatch causal = CausalBatch({9, 4, 12, 7}, 2, 1);
  const MicroBatch slice = train::SliceRows(causal, 2, 4);
  EXPECT_EQ(slice.labels.sizes(), (std::vector<int64_t>{2, 12}));
  EXPECT_EQ(slice.targets, (12 - 2) + (7 - 2));
}

TEST(CpuReplicasTest, ClassifierTrainsAsOneModel) {
  ExpectSameTraining("scratch:bloom-tiny", models::ModelTask::kSequenceClassification,
                     ClassifierWindows());
}

TEST(CpuReplicasTest, CausalLmTrainsAsOneModel) {
  ExpectSameTraining("scratch:bloom-tiny", models::ModelTask::kCausalLm, CausalWindows());
}

TEST(CpuReplicasTest, SameBitsOnEveryRunAndTheThreadCountsComeBack) {
  const auto windows = ClassifierWindows();
  const Trained first = Train("scratch:bloom-tiny", models::ModelTask::kSequenceClassification,
                              torch::kFloat32, windows, 2);
  EXPECT_EQ(at::get_num_threads(), 2);
  if (train::BlasThreads() > 0) {
    EXPECT_EQ(train::BlasThreads(), 2);
  }
  const Trained second = Train("scratch:bloom-tiny", models::ModelTask::kSequenceClassification,
                               torch::kFloat32, windows, 2);
  for (std::size_t i = 0; i < first.parameters.size(); ++i) {
    EXPECT_TRUE(torch::equal(first.parameters[i], second.parameters[i])) << "tensor " << i;
  }
}

TEST(ReplicaSumTest, EveryThreadGetsTheTotalAddedInReplicaOrder) {
  train::ReplicaSum sum(3);
  std::vector<std::vector<torch::Tensor>> partial = {
      {torch::tensor({1.0, 2.0}), torch::tensor(5L)},
      {torch::tensor({10.0, 20.0}), torch::tensor(6L)},
      {torch::tensor({100.0, 200.0}), torch::tensor(7L)}};
  std::vector<std::thread> threads;
  for (int r = 1; r < 3; ++r) threads.emplace_back([&, r] { sum.Sum(r, partial[r]); });
  sum.Sum(0, partial[0]);
  for (std::thread& thread : threads) thread.join();
  for (const auto& sums : partial) {
    EXPECT_TRUE(torch::equal(sums[0], torch::tensor({111.0, 222.0})));
    EXPECT_EQ(sums[1].item<int64_t>(), 18);
  }
}

TEST(ReplicaSumTest, AbortReleasesThoseWaitingForOneThatNeverComes) {
  train::ReplicaSum sum(2);
  std::vector<torch::Tensor> mine = {torch::tensor(4.0)};
  std::thread waiting([&] { sum.Sum(1, mine); });
  sum.Abort();
  waiting.join();
  EXPECT_EQ(mine[0].item<double>(), 4.0);
}

TEST(CpuReplicasTest, AReplicaOfAnotherArchitectureIsRefused) {
  models::TrainableModel model =
      Build("scratch:bloom-tiny", models::ModelTask::kSequenceClassification, torch::kFloat32, 1);
  std::vector<models::TrainableModel> extra;
  extra.push_back(
      Build("scratch:bloom-tiny", models::ModelTask::kCausalLm, torch::kFloat32, 1));
  EXPECT_THROW(CpuReplicas(*model, std::move(extra), 2), std::logic_error);
}

// A float64 LoRA classifier (r 4 on bloom-tiny's default targets) split between 2 replicas: the
// gradients of the trainable tensors after one window, the job's generator seeded with
// `generator_seed` just before it.
std::vector<torch::Tensor> LoraWindowGradients(const std::vector<MicroBatch>& window,
                                               double dropout, bool checkpointing,
                                               uint64_t generator_seed) {
  train::SetComputeThreads(2);
  adapters::LoraOptions lora;
  lora.enabled = true;
  lora.r = 4;
  lora.alpha = 8;
  lora.dropout = dropout;
  const auto build = [&](uint64_t seed) {
    models::TrainableModel model = Build("scratch:bloom-tiny",
                                         models::ModelTask::kSequenceClassification,
                                         torch::kFloat64, seed);
    torch::manual_seed(seed);
    adapters::ApplyLora(*model, models::ModelFamily::kBloom, lora);
    model->to(torch::kFloat64);
    model->set_activation_checkpointing(checkpointing);
    return model;
  };
  models::TrainableModel model = build(7);
  std::vector<models::TrainableModel> extra;
  extra.push_back(build(101));
  CpuReplicas split(*model, std::move(extra), 2, dropout > 0);
  torch::manual_seed(generator_seed);
  split.AccumulateWindow(window, train::WindowLossTerms(window));
  std::vector<torch::Tensor> gradients;
  for (const torch::Tensor& p : adapters::TrainableParameters(*model)) {
    EXPECT_TRUE(p.grad().defined());
    gradients.push_back(p.grad().clone());
  }
  return gradients;
}

TEST(CpuReplicasDropoutTest, TheSameMasksOnEveryRunDrawnFromTheJobsGenerator) {
  const std::vector<MicroBatch> window = Collate({{0, 1, 2, 3}, {4, 5, 6, 7}});
  const auto first = LoraWindowGradients(window, 0.3, false, 11);
  const auto again = LoraWindowGradients(window, 0.3, false, 11);
  const auto other_seed = LoraWindowGradients(window, 0.3, false, 12);
  const auto no_dropout = LoraWindowGradients(window, 0.0, false, 11);
  for (std::size_t i = 0; i < first.size(); ++i) {
    EXPECT_TRUE(torch::equal(first[i], again[i])) << "tensor " << i;
  }
  EXPECT_GT(WorstRelative(first, other_seed), 1e-3);
  EXPECT_GT(WorstRelative(first, no_dropout), 1e-3);
}

// One micro-batch of a row twice against that row alone: with the same masks on both replicas
// the two windows' gradients (means over their examples) would be equal, as they are without
// dropout; each replica draws its own, so they differ.
TEST(CpuReplicasDropoutTest, EachReplicaDrawsItsOwnMasks) {
  const std::vector<MicroBatch> twice = Collate({{3, 3}});
  const std::vector<MicroBatch> once = Collate({{3}});
  const double without = WorstRelative(LoraWindowGradients(twice, 0.0, false, 5),
                                       LoraWindowGradients(once, 0.0, false, 5));
  const double with = WorstRelative(LoraWindowGradients(twice, 0.3, false, 5),
                                    LoraWindowGradients(once, 0.3, false, 5));
  std::printf("[ measured ] a row on both replicas vs alone: %.3g without dropout, %.3g with\n",
              without, with);
  EXPECT_LE(without, 1e-12);
  EXPECT_GT(with, 1e-3);
}

// The recomputation in the backward must draw the masks that the replica's forward drew, from
// the replica's own generator.
TEST(CpuReplicasDropoutTest, ActivationCheckpointingReplaysEachReplicasMasks) {
  const std::vector<MicroBatch> window = Collate({{0, 1, 2, 3}, {4, 5, 6, 7}});
  const double difference = WorstRelative(LoraWindowGradients(window, 0.3, true, 11),
                                          LoraWindowGradients(window, 0.3, false, 11));
  std::printf("[ measured ] dropout with activation checkpointing vs without: %.3g\n",
              difference);
  EXPECT_LE(difference, kCriterion);
}

// Without a generator of its own a thread draws torch::dropout's mask from the default generator
// (a job without replicas trains as before); inside OwnCpuGenerator it leaves that one untouched.
TEST(ThisThreadsDropoutTest, TorchDropoutsMaskUnlessTheThreadHasItsOwnGenerator) {
  const torch::Tensor input = torch::rand({6, 40}, torch::kFloat64) + 1;
  torch::manual_seed(3);
  const torch::Tensor expected = torch::dropout(input, 0.25, true);
  torch::manual_seed(3);
  EXPECT_TRUE(torch::equal(models::ThisThreadsDropout(input, 0.25), expected));

  torch::manual_seed(3);
  torch::Tensor own_first;
  {
    models::OwnCpuGenerator own(99);
    own_first = models::ThisThreadsDropout(input, 0.25);
    {
      models::OwnCpuGenerator nested(99);
      EXPECT_TRUE(torch::equal(models::ThisThreadsDropout(input, 0.25), own_first));
    }
    EXPECT_FALSE(torch::equal(models::ThisThreadsDropout(input, 0.25), own_first));
  }
  EXPECT_FALSE(torch::equal(own_first, expected));
  EXPECT_TRUE(torch::equal(torch::dropout(input, 0.25, true), expected));
}

}  // namespace
}  // namespace ft
