// The gang's overlapped gradient all-reduce (gradient_reducer.h) with two real ranks: two
// threads, each with its own c10d gang (TCPStore and ProcessGroupGloo over loopback). In float64,
// the summed gradients must equal one process's gradient of all micro-batches of both ranks;
// buckets start during the last micro-batch's backward (not during earlier ones) in bucket order,
// a bucket with a parameter that the backward never reaches waits for Finish, a parameter that no
// rank has a gradient for keeps none, one that only the other rank has gets the other's, a
// parameter listed twice (tied) is summed once, and a rank with no micro-batch joins with zeros.
#include "worker/distributed/gradient_reducer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/prerequisite.h"
#include "worker/distributed/gang.h"

namespace ft::distributed {
namespace {

constexpr int64_t kWidth = 32;
constexpr int kLayers = 4;

// Parameters in model order: an unused weight first (so its bucket, in reverse order, is the
// last), a head that only rank 1 uses, kLayers square layers, and the first layer's weight again
// (a tied weight, listed twice). Deterministic values, the same on both ranks.
struct ToyModel {
  torch::Tensor unused;
  std::vector<torch::Tensor> layers;
  torch::Tensor rank1_head;

  ToyModel() {
    const auto values = [](int64_t rows, int64_t cols, double phase) {
      return torch::sin(torch::arange(rows * cols, torch::kFloat64) * 0.37 + phase)
          .reshape({rows, cols})
          .mul_(0.3)
          .requires_grad_();
    };
    unused = values(kWidth, kWidth, 0.1);
    for (int i = 0; i < kLayers; ++i) layers.push_back(values(kWidth, kWidth, 1.0 + i));
    rank1_head = values(kWidth, 1, 7.0);
  }
  std::vector<torch::Tensor> Parameters() const {
    std::vector<torch::Tensor> parameters{unused, rank1_head};
    parameters.insert(parameters.end(), layers.begin(), layers.end());
    parameters.push_back(layers[0]);  // tied: the same tensor again
    return parameters;
  }
  // The summed loss of one micro-batch; the first layer's weight is used twice.
  torch::Tensor Loss(const torch::Tensor& input, bool use_rank1_head) const {
    torch::Tensor hidden = input;
    for (const torch::Tensor& layer : layers) hidden = torch::tanh(hidden.matmul(layer));
    hidden = hidden.matmul(layers[0].t());
    torch::Tensor loss = hidden.pow(2).sum();
    if (use_rank1_head) loss = loss + hidden.matmul(rank1_head).sum();
    return loss;
  }
};

torch::Tensor MicroBatch(int rank, int index) {
  return torch::cos(torch::arange(3 * kWidth, torch::kFloat64) * (0.11 + 0.05 * index) + rank)
      .reshape({3, kWidth});
}

constexpr double kDivisor = 12.0;  // the "window's loss terms": the same on every rank

// One rank's window: micro_batches micro-batches, the reducer armed before the last backward.
void AccumulateAndReduce(const ToyModel& model, GradientReducer& reducer, int rank,
                         int micro_batches) {
  for (int i = 0; i < micro_batches; ++i) {
    const torch::Tensor loss = model.Loss(MicroBatch(rank, i), rank == 1) / kDivisor;
    if (i == micro_batches - 1) reducer.ArmBeforeLastBackward();
    loss.backward();
  }
  reducer.Finish({static_cast<double>(rank)});
}

struct RankOutcome {
  std::vector<torch::Tensor> gradients;  // per parameter of Parameters(); undefined: none
  std::size_t buckets = 0;
  std::size_t buckets_during_backward = 0;
  uint64_t bytes = 0;
};

// Runs `body` on ranks 0 and 1 of a fresh two-rank gang, each on its own thread.
std::vector<RankOutcome> RunGang(const GradientReducerOptions& options,
                                 const std::vector<int>& micro_batches_per_rank) {
  std::promise<int> port;
  std::future<int> port_ready = port.get_future();
  std::vector<RankOutcome> outcomes(2);
  std::vector<std::exception_ptr> errors(2);
  const auto run_rank = [&](int rank) {
    try {
      train::DistributedOptions gang_options;
      gang_options.rank = rank;
      gang_options.world_size = 2;
      gang_options.store_host = "127.0.0.1";
      gang_options.timeout_seconds = 20;
      gang_options.store_prefix = "gradient-reducer-test";
      if (rank == 0) {
        gang_options.on_store_listening = [&port](int listening) { port.set_value(listening); };
      } else {
        gang_options.store_port = port_ready.get();
      }
      std::unique_ptr<Gang> gang = Gang::Join(gang_options);
      ToyModel model;
      GradientReducer reducer(*gang, model.Parameters(), options);
      AccumulateAndReduce(model, reducer, rank, micro_batches_per_rank[rank]);
      RankOutcome& outcome = outcomes[rank];
      for (const torch::Tensor& parameter : model.Parameters()) {
        outcome.gradients.push_back(parameter.grad().defined() ? parameter.grad().clone()
                                                               : torch::Tensor());
      }
      outcome.buckets = reducer.bucket_count();
      outcome.buckets_during_backward = reducer.last_buckets_during_backward();
      outcome.bytes = reducer.bytes_per_reduce();
    } catch (...) {
      errors[rank] = std::current_exception();
    }
  };
  std::thread rank1(run_rank, 1);
  run_rank(0);
  rank1.join();
  for (const std::exception_ptr& error : errors) {
    if (error) std::rethrow_exception(error);
  }
  return outcomes;
}

// One process: every micro-batch of both ranks, accumulated into one model.
std::vector<torch::Tensor> OneProcessGradients(const std::vector<int>& micro_batches_per_rank) {
  ToyModel model;
  for (int rank = 0; rank < 2; ++rank) {
    for (int i = 0; i < micro_batches_per_rank[rank]; ++i) {
      (model.Loss(MicroBatch(rank, i), rank == 1) / kDivisor).backward();
    }
  }
  std::vector<torch::Tensor> gradients;
  for (const torch::Tensor& parameter : model.Parameters()) gradients.push_back(parameter.grad());
  return gradients;
}

void ExpectOneProcessGradients(const std::vector<RankOutcome>& ranks,
                               const std::vector<int>& micro_batches_per_rank) {
  const std::vector<torch::Tensor> expected = OneProcessGradients(micro_batches_per_rank);
  for (int rank = 0; rank < 2; ++rank) {
    ASSERT_EQ(ranks[rank].gradients.size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
      const std::string what = "rank " + std::to_string(rank) + ", parameter " +
                               std::to_string(i);
      if (!expected[i].defined()) {
        EXPECT_FALSE(ranks[rank].gradients[i].defined()) << what << ": no rank has a gradient";
        continue;
      }
      ASSERT_TRUE(ranks[rank].gradients[i].defined()) << what;
      const double scale = expected[i].abs().max().item<double>();
      const double difference = (ranks[rank].gradients[i] - expected[i]).abs().max().item<double>();
      EXPECT_LE(difference, 1e-12 * scale) << what;
    }
  }
}

class GradientReducerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!Gang::Available()) {
      FT_SKIP_PREREQUISITE_MISSING() << "this build has no c10d Gloo backend (libgloo-dev)";
    }
  }
};

// Buckets of one layer each (kWidth^2 float64), the first one too.
GradientReducerOptions LayerBuckets(bool overlap) {
  GradientReducerOptions options;
  options.first_bucket_bytes = kWidth * kWidth * sizeof(double);
  options.bucket_bytes = options.first_bucket_bytes;
  options.overlap = overlap;
  return options;
}

TEST_F(GradientReducerTest, OverlappedSumsEqualOneProcessAndStartDuringTheBackward) {
  const std::vector<int> micro_batches = {2, 3};
  const std::vector<RankOutcome> ranks = RunGang(LayerBuckets(true), micro_batches);
  ExpectOneProcessGradients(ranks, micro_batches);
  // In reverse model order: the 4 layers, the head, the unused weight; one bucket each, the tied
  // weight counted once.
  EXPECT_EQ(ranks[0].buckets, 6u);
  EXPECT_EQ(ranks[0].bytes, (5 * kWidth * kWidth + kWidth) * sizeof(double));
  // Rank 1: every bucket but the unused weight's (the last) started during the backward; rank 0,
  // whose backward does not reach the head, the 4 layers' only.
  EXPECT_EQ(ranks[1].buckets_during_backward, 5u);
  EXPECT_EQ(ranks[0].buckets_during_backward, 4u);
}

TEST_F(GradientReducerTest, BucketOfSeveralParametersStartsOnlyWhenAllAreFinal) {
  // Two layers a bucket: [layer 3, layer 2], [layer 1, layer 0], [head, unused weight].
  GradientReducerOptions options = LayerBuckets(true);
  options.first_bucket_bytes *= 2;
  options.bucket_bytes *= 2;
  const std::vector<int> micro_batches = {3, 2};
  const std::vector<RankOutcome> ranks = RunGang(options, micro_batches);
  ExpectOneProcessGradients(ranks, micro_batches);
  EXPECT_EQ(ranks[0].buckets, 3u);
  EXPECT_EQ(ranks[0].buckets_during_backward, 2u);
  EXPECT_EQ(ranks[1].buckets_during_backward, 2u);
}

TEST_F(GradientReducerTest, AfterTheBackwardGivesTheSameSums) {
  const std::vector<int> micro_batches = {2, 3};
  const std::vector<RankOutcome> ranks = RunGang(LayerBuckets(false), micro_batches);
  ExpectOneProcessGradients(ranks, micro_batches);
  EXPECT_EQ(ranks[0].buckets_during_backward, 0u);
}

TEST_F(GradientReducerTest, RankWithoutMicroBatchJoinsWithZeros) {
  // Rank 1 computes nothing (a short last window): it never arms, and rank 1's head gets no
  // gradient anywhere, so it keeps none.
  const std::vector<int> micro_batches = {2, 0};
  const std::vector<RankOutcome> ranks = RunGang(LayerBuckets(true), micro_batches);
  ExpectOneProcessGradients(ranks, micro_batches);
  EXPECT_EQ(ranks[1].buckets_during_backward, 0u);
  EXPECT_EQ(ranks[0].buckets_during_backward, 4u);
}

}  // namespace
}  // namespace ft::distributed
