// The gang's gradient all-reduce (gradient_reducer.h) with two real ranks: two threads, each with
// its own c10d gang (TCPStore and ProcessGroupGloo over loopback). In float64, the summed
// gradients must equal one process's gradient of all micro-batches of both ranks; buckets start
// during the last micro-batch's backward (not during earlier ones) in bucket order, a bucket with
// a parameter that the backward never reaches waits for Finish, a parameter that no rank has a
// gradient for keeps none, one that only the other rank has gets the other's, a parameter listed
// twice (tied) is summed once, and a rank with no micro-batch joins with zeros. The gradients are
// the buckets (gradient_buckets.h): the backward accumulates into them and Finish copies nothing;
// a gradient set to None or replaced between or inside windows is still summed right.
#include "worker/distributed/gradient_reducer.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <utility>
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

// One rank's backwards of a window: micro_batches micro-batches, the reducer armed before the
// last backward; use_head: rank 1 uses its head.
void Backwards(const ToyModel& model, GradientReducer& reducer, int rank, int micro_batches,
               bool use_head = true) {
  for (int i = 0; i < micro_batches; ++i) {
    const torch::Tensor loss = model.Loss(MicroBatch(rank, i), use_head && rank == 1) / kDivisor;
    if (i == micro_batches - 1) reducer.ArmBeforeLastBackward();
    loss.backward();
  }
}

// One rank's window as the trainer runs it.
void AccumulateAndReduce(const ToyModel& model, GradientReducer& reducer, int rank,
                         int micro_batches) {
  reducer.BeginWindow(ZeroGrad::kToZeros);
  Backwards(model, reducer, rank, micro_batches);
  reducer.Finish({static_cast<double>(rank)});
}

struct RankOutcome {
  std::vector<torch::Tensor> gradients;  // per parameter of Parameters(); undefined: none
  std::size_t buckets = 0;
  std::size_t buckets_during_backward = 0;
  std::size_t gradients_copied = 0;
  uint64_t bytes = 0;
  std::vector<std::string> failures;  // checks made on the rank's thread
};

// Each gradient is its slot in the reducer's buckets; an undefined one passes unless
// all_defined.
void CheckGradientsAreSlots(const ToyModel& model, const GradientReducer& reducer,
                            const std::string& when, RankOutcome& outcome,
                            bool all_defined = false) {
  const std::vector<torch::Tensor> parameters = model.Parameters();
  for (std::size_t i = 0; i + 1 < parameters.size(); ++i) {  // the last one is the tied repeat
    const torch::Tensor& grad = parameters[i].grad();
    if ((grad.defined() || all_defined) && !reducer.buckets().IsSlot(i, grad)) {
      outcome.failures.push_back(when + ": the gradient of parameter " + std::to_string(i) +
                                 " is not its slot in the buckets");
    }
  }
}

using RankBody = std::function<void(int rank, const ToyModel&, GradientReducer&, RankOutcome&)>;

// Runs `body` on ranks 0 and 1 of a fresh two-rank gang, each on its own thread, then records
// each rank's gradients.
std::vector<RankOutcome> RunGang(const GradientReducerOptions& options, const RankBody& body) {
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
      RankOutcome& outcome = outcomes[rank];
      body(rank, model, reducer, outcome);
      for (const torch::Tensor& parameter : model.Parameters()) {
        outcome.gradients.push_back(parameter.grad().defined() ? parameter.grad().clone()
                                                               : torch::Tensor());
      }
      outcome.buckets = reducer.bucket_count();
      outcome.buckets_during_backward = reducer.last_buckets_during_backward();
      outcome.gradients_copied = reducer.last_gradients_copied();
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
  for (const RankOutcome& outcome : outcomes) {
    for (const std::string& failure : outcome.failures) ADD_FAILURE() << failure;
  }
  return outcomes;
}

// One window per rank, as the trainer runs it.
std::vector<RankOutcome> RunGang(const GradientReducerOptions& options,
                                 const std::vector<int>& micro_batches_per_rank) {
  return RunGang(options,
                 [&](int rank, const ToyModel& model, GradientReducer& reducer, RankOutcome&) {
                   AccumulateAndReduce(model, reducer, rank, micro_batches_per_rank[rank]);
                 });
}

// One process: every micro-batch of both ranks, accumulated into one model.
std::vector<torch::Tensor> OneProcessGradients(const std::vector<int>& micro_batches_per_rank,
                                               bool use_head = true) {
  ToyModel model;
  for (int rank = 0; rank < 2; ++rank) {
    for (int i = 0; i < micro_batches_per_rank[rank]; ++i) {
      (model.Loss(MicroBatch(rank, i), use_head && rank == 1) / kDivisor).backward();
    }
  }
  std::vector<torch::Tensor> gradients;
  for (const torch::Tensor& parameter : model.Parameters()) gradients.push_back(parameter.grad());
  return gradients;
}

void ExpectOneProcessGradients(const std::vector<RankOutcome>& ranks,
                               const std::vector<int>& micro_batches_per_rank,
                               bool use_head = true) {
  const std::vector<torch::Tensor> expected = OneProcessGradients(micro_batches_per_rank, use_head);
  for (int rank = 0; rank < 2; ++rank) {
    ASSERT_EQ(ranks[rank].gradients.size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
      const std::string what = "rank " + std::to_string(rank) + ", parameter " + std::to_string(i);
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

// Parameter indices in ToyModel::Parameters().
constexpr std::size_t kUnused = 0;
constexpr std::size_t kHead = 1;
constexpr std::size_t kFirstLayer = 2;

TEST_F(GradientReducerTest, GradientsAreTheBucketsWithNoSecondCopy) {
  for (const bool overlap : {true, false}) {
    SCOPED_TRACE(overlap ? "overlapped" : "after the backward");
    const std::vector<int> micro_batches = {2, 3};
    const std::vector<RankOutcome> ranks = RunGang(
        LayerBuckets(overlap),
        [&](int rank, const ToyModel& model, GradientReducer& reducer, RankOutcome& outcome) {
          // Two windows: the second one's sums must not carry the first one's.
          for (int window = 1; window <= 2; ++window) {
            const std::string when = "window " + std::to_string(window) + ", ";
            reducer.BeginWindow(ZeroGrad::kToZeros);
            CheckGradientsAreSlots(model, reducer, when + "after BeginWindow", outcome, true);
            Backwards(model, reducer, rank, micro_batches[rank]);
            // Accumulated in place: no micro-batch replaced a slot with a tensor of its own.
            CheckGradientsAreSlots(model, reducer, when + "after the backward", outcome, true);
            reducer.Finish({});
            CheckGradientsAreSlots(model, reducer, when + "after Finish", outcome);
            if (reducer.last_gradients_copied() != 0) {
              outcome.failures.push_back(when + "Finish copied " +
                                         std::to_string(reducer.last_gradients_copied()) +
                                         " gradients into the buckets");
            }
          }
        });
    ExpectOneProcessGradients(ranks, micro_batches);
  }
}

// A parameter that no rank's backward reaches is left without a gradient on every rank, window
// after window, although its .grad was a zeroed slot during the window. The head, which only rank
// 1 uses in the first window and nobody in the second, keeps its (zero) gradient with
// ZeroGrad::kToZeros, as LibTorch 1.x's zero_grad keeps it in one process, and has none with
// kToNone (LibTorch 2.x).
TEST_F(GradientReducerTest, UnusedParameterStaysWithoutGradientOnEveryRank) {
  for (const ZeroGrad zero_grad : {ZeroGrad::kToZeros, ZeroGrad::kToNone}) {
    const bool keeps = zero_grad == ZeroGrad::kToZeros;
    SCOPED_TRACE(keeps ? "kToZeros" : "kToNone");
    const std::vector<int> micro_batches = {2, 3};
    const std::vector<RankOutcome> ranks = RunGang(
        LayerBuckets(true),
        [&](int rank, const ToyModel& model, GradientReducer& reducer, RankOutcome& outcome) {
          const std::vector<torch::Tensor> parameters = model.Parameters();
          for (int window = 1; window <= 2; ++window) {
            reducer.BeginWindow(zero_grad);
            Backwards(model, reducer, rank, micro_batches[rank], /*use_head=*/window == 1);
            reducer.Finish({});
            const std::string when =
                "rank " + std::to_string(rank) + ", window " + std::to_string(window) + ": ";
            if (parameters[kUnused].grad().defined()) {
              outcome.failures.push_back(when + "the unused weight has a gradient");
            }
            if (window == 1 && !parameters[kHead].grad().defined()) {
              outcome.failures.push_back(when + "the head has no gradient (rank 1 has one)");
            }
          }
        });
    for (int rank = 0; rank < 2; ++rank) {
      EXPECT_FALSE(ranks[rank].gradients[kUnused].defined()) << "rank " << rank;
      const torch::Tensor& head = ranks[rank].gradients[kHead];
      ASSERT_EQ(head.defined(), keeps) << "rank " << rank;
      if (keeps) {
        EXPECT_EQ(head.abs().max().item<double>(), 0.0) << "rank " << rank;
      }
      for (std::size_t i = kFirstLayer; i < kFirstLayer + kLayers; ++i) {
        ASSERT_TRUE(ranks[rank].gradients[i].defined()) << "rank " << rank << ", layer " << i;
      }
    }
    // The layers' sums are the second window's.
    const std::vector<torch::Tensor> expected = OneProcessGradients(micro_batches, false);
    for (std::size_t i = kFirstLayer; i < kFirstLayer + kLayers; ++i) {
      const double scale = expected[i].abs().max().item<double>();
      EXPECT_LE((ranks[0].gradients[i] - expected[i]).abs().max().item<double>(), 1e-12 * scale);
    }
  }
}

// What may happen to a .grad that the reducer pointed at its slot.
enum class Replacement {
  kNoneBeforeBegin,  // LibTorch 2.x's zero_grad before BeginWindow
  kZerosAfterBegin,  // code assigns each layer a tensor of its own inside the window
  kNoneAfterBegin,   // set to None inside the window: the backward makes new tensors
};

// Correctness never depends on the views: after a first window, the second window's gradients
// are replaced (above); BeginWindow makes them slots again, or Finish copies the replacements in.
// The sums are one process's either way, and every .grad is its slot afterwards.
TEST_F(GradientReducerTest, ReplacedGradientsAreStillSummed) {
  for (const bool overlap : {true, false}) {
    for (const Replacement replacement :
         {Replacement::kNoneBeforeBegin, Replacement::kZerosAfterBegin,
          Replacement::kNoneAfterBegin}) {
      SCOPED_TRACE(std::string(overlap ? "overlapped, " : "after the backward, ") +
                   (replacement == Replacement::kNoneBeforeBegin   ? "none before BeginWindow"
                    : replacement == Replacement::kZerosAfterBegin ? "zeros after BeginWindow"
                                                                   : "none after BeginWindow"));
      const std::vector<int> micro_batches = {2, 3};
      const std::vector<RankOutcome> ranks = RunGang(
          LayerBuckets(overlap),
          [&](int rank, const ToyModel& model, GradientReducer& reducer, RankOutcome& outcome) {
            AccumulateAndReduce(model, reducer, rank, micro_batches[rank]);
            std::vector<torch::Tensor> parameters = model.Parameters();
            if (replacement == Replacement::kNoneBeforeBegin) {
              for (torch::Tensor& parameter : parameters)
                parameter.mutable_grad() = torch::Tensor();
              reducer.BeginWindow(ZeroGrad::kToNone);
              CheckGradientsAreSlots(model, reducer, "after BeginWindow", outcome, true);
            } else {
              reducer.BeginWindow(ZeroGrad::kToZeros);
              for (std::size_t i = kFirstLayer; i < kFirstLayer + kLayers; ++i) {
                parameters[i].mutable_grad() = replacement == Replacement::kZerosAfterBegin
                                                   ? torch::zeros_like(parameters[i])
                                                   : torch::Tensor();
              }
            }
            Backwards(model, reducer, rank, micro_batches[rank]);
            reducer.Finish({});
            CheckGradientsAreSlots(model, reducer, "after Finish", outcome);
          });
      ExpectOneProcessGradients(ranks, micro_batches);
      const std::size_t copied = replacement == Replacement::kNoneBeforeBegin ? 0 : kLayers;
      EXPECT_EQ(ranks[0].gradients_copied, copied);
      EXPECT_EQ(ranks[1].gradients_copied, copied);
    }
  }
}

// Passes its input on forward and gives it no gradient back (undefined): the input's
// accumulation node still runs, with nothing flowing in.
struct WithoutGradient : torch::autograd::Function<WithoutGradient> {
  static torch::Tensor forward(torch::autograd::AutogradContext*, const torch::Tensor& input) {
    return input.clone();
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext*,
                                                 const torch::autograd::variable_list&) {
    return {torch::Tensor()};
  }
};

// The reducer tells "reached with a gradient" from "reached with none" by the hooks' second
// argument: a .grad that is a slot is defined either way.
TEST(GradientReadyHooksTest, SayWhetherAGradientFlowedIn) {
  const torch::Tensor reached = torch::ones({3}, torch::kFloat64).requires_grad_();
  const torch::Tensor without = torch::ones({3}, torch::kFloat64).requires_grad_();
  std::vector<std::pair<std::size_t, bool>> calls;
  GradientReadyHooks hooks({reached, without}, [&calls](std::size_t parameter, bool received) {
    calls.emplace_back(parameter, received);
  });
  ((reached * 2).sum() + WithoutGradient::apply(without).sum()).backward();
  std::sort(calls.begin(), calls.end());
  const std::vector<std::pair<std::size_t, bool>> expected = {{0, true}, {1, false}};
  EXPECT_EQ(calls, expected);
  EXPECT_FALSE(without.grad().defined());
}

// Multiplies its input by a weight that is not one of its inputs, and back-propagates through a
// recomputation in a nested backward, as reentrant activation checkpointing does: the weight's
// accumulation node runs in that nested backward.
struct NestedBackwardProduct : torch::autograd::Function<NestedBackwardProduct> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& input,
                               int64_t weight_address) {
    ctx->save_for_backward({input});
    ctx->saved_data["weight"] = weight_address;
    return input.matmul(Weight(weight_address));
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const torch::Tensor input = ctx->get_saved_variables()[0].detach().requires_grad_();
    torch::Tensor output;
    {
      torch::AutoGradMode enable_grad(true);
      output = input.matmul(Weight(ctx->saved_data["weight"].toInt()));
    }
    torch::autograd::backward({output}, {grad_outputs[0]});
    return {input.grad(), torch::Tensor()};
  }
  static const torch::Tensor& Weight(int64_t address) {
    return *reinterpret_cast<const torch::Tensor*>(static_cast<intptr_t>(address));
  }
};

// A weight used inside a reentrant nested backward and outside it gets two gradients in one
// backward. Overlapped, the first one makes it final and starts its bucket's sum (the last layer:
// the first bucket), which the second would race with: the backward fails, naming the cause, on
// both ranks. After the backward, the sum is right.
TEST_F(GradientReducerTest, SecondGradientInOneBackwardFailsTheOverlappedBackward) {
  const auto loss = [](const torch::Tensor& weight, int rank) {
    const torch::Tensor input =
        torch::cos(torch::arange(2 * kWidth, torch::kFloat64) * 0.3 + rank).reshape({2, kWidth});
    const torch::Tensor outside = torch::tanh(input.matmul(weight));
    return NestedBackwardProduct::apply(outside, reinterpret_cast<intptr_t>(&weight)).sum() +
           outside.pow(2).sum();
  };
  for (const bool overlap : {true, false}) {
    SCOPED_TRACE(overlap ? "overlapped" : "after the backward");
    std::vector<std::string> errors(2);
    const std::vector<RankOutcome> ranks =
        RunGang(LayerBuckets(overlap),
                [&](int rank, const ToyModel& model, GradientReducer& reducer, RankOutcome&) {
                  const torch::Tensor& weight = model.layers.back();
                  reducer.BeginWindow(ZeroGrad::kToZeros);
                  reducer.ArmBeforeLastBackward();
                  try {
                    loss(weight, rank).backward();
                  } catch (const std::exception& error) {
                    errors[rank] = error.what();
                  }
                  reducer.Finish({});
                });
    if (overlap) {
      for (int rank = 0; rank < 2; ++rank) {
        EXPECT_NE(errors[rank].find("second gradient in one backward"), std::string::npos)
            << "rank " << rank << ": " << errors[rank];
        // The last layer's bucket (the first) was summing when the second gradient came.
        EXPECT_EQ(ranks[rank].buckets_during_backward, 1u) << "rank " << rank;
      }
      continue;
    }
    EXPECT_EQ(errors, std::vector<std::string>(2));
    ToyModel alone;
    for (int rank = 0; rank < 2; ++rank) loss(alone.layers.back(), rank).backward();
    const torch::Tensor& expected = alone.layers.back().grad();
    const torch::Tensor& summed = ranks[0].gradients[kFirstLayer + kLayers - 1];
    ASSERT_TRUE(summed.defined());
    EXPECT_LE((summed - expected).abs().max().item<double>(),
              1e-12 * expected.abs().max().item<double>());
  }
}

}  // namespace
}  // namespace ft::distributed
