// FusedAdamW (worker/optim) against LibTorch's torch::optim::AdamW: the same parameters after
// several steps with weight decay on one group and not the other, on a tensor large enough to be
// split between threads, the same optimizer archive both ways, and torch's own step where it
// cannot fuse.
#include <gtest/gtest.h>
#include <torch/optim/adamw.h>
#include <torch/serialize/archive.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <algorithm>
#include <memory>
#include <sstream>
#include <vector>

#include "worker/optim/fused_adamw.h"

namespace ft {
namespace {

using torch::optim::AdamWOptions;
using torch::optim::OptimizerParamGroup;

// A decayed matrix of 120,000 elements (several parallel_for tasks) and an exempt bias vector,
// as the trainer groups them.
std::vector<torch::Tensor> InitialParameters() {
  torch::manual_seed(7);
  return {torch::randn({300, 400}), torch::randn({257})};
}

std::vector<torch::Tensor> Copies(const std::vector<torch::Tensor>& tensors) {
  std::vector<torch::Tensor> copies;
  for (const torch::Tensor& t : tensors) copies.push_back(t.detach().clone().requires_grad_(true));
  return copies;
}

AdamWOptions Options(double weight_decay, bool amsgrad = false) {
  return AdamWOptions(2e-2).betas({0.9, 0.999}).eps(1e-8).weight_decay(weight_decay).amsgrad(
      amsgrad);
}

std::vector<OptimizerParamGroup> Groups(const std::vector<torch::Tensor>& p, bool amsgrad = false) {
  std::vector<OptimizerParamGroup> groups;
  groups.emplace_back(std::vector<torch::Tensor>{p[0]},
                      std::make_unique<AdamWOptions>(Options(0.1, amsgrad)));
  groups.emplace_back(std::vector<torch::Tensor>{p[1]},
                      std::make_unique<AdamWOptions>(Options(0.0, amsgrad)));
  return groups;
}

// The same fresh gradients (seeded by step) on both parameter sets, then one step of each.
void StepBoth(torch::optim::Optimizer& fused, const std::vector<torch::Tensor>& fused_params,
              torch::optim::Optimizer& reference,
              const std::vector<torch::Tensor>& reference_params, int step) {
  torch::manual_seed(100 + step);
  for (std::size_t i = 0; i < fused_params.size(); ++i) {
    // Gradients of mixed scales, so that sqrt(v) ranges from far below to far above eps.
    const torch::Tensor gradient =
        torch::randn(fused_params[i].sizes()) * torch::pow(10.0, torch::randint(-9, 1, {1}));
    fused_params[i].mutable_grad() = gradient.clone();
    reference_params[i].mutable_grad() = gradient.clone();
  }
  fused.step();
  reference.step();
}

// Largest |fused - reference| over all parameters.
double LargestDifference(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  double largest = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    largest = std::max(largest, (a[i] - b[i]).abs().max().item<double>());
  }
  return largest;
}

// A few float32 roundings of values up to ~4.5 (randn), whose ulp is 4.8e-7: torch's kernels may
// fuse a multiply-add that the one-pass loop rounds twice. A wrong term is far larger: one step
// moves a value by up to lr = 2e-2, weight decay by lr * 0.1 * |value| ~ 2e-3.
constexpr double kBar = 4e-6;

TEST(FusedAdamWTest, StepsAsTorchAdamW) {
  const std::vector<torch::Tensor> initial = InitialParameters();
  const std::vector<torch::Tensor> fused_params = Copies(initial);
  const std::vector<torch::Tensor> reference_params = Copies(initial);
  optim::FusedAdamW fused(Groups(fused_params), Options(0.1));
  torch::optim::AdamW reference(Groups(reference_params), Options(0.1));
  for (int step = 1; step <= 6; ++step) {
    StepBoth(fused, fused_params, reference, reference_params, step);
    EXPECT_LE(LargestDifference(fused_params, reference_params), kBar) << "step " << step;
  }
  // The parameters did move (by ~lr per step), so the bar is not met by standing still.
  EXPECT_GT(LargestDifference(fused_params, initial), 0.05);
}

TEST(FusedAdamWTest, ArchivesAreTorchAdamWs) {
  const std::vector<torch::Tensor> initial = InitialParameters();
  std::vector<torch::Tensor> fused_params = Copies(initial);
  std::vector<torch::Tensor> reference_params = Copies(initial);
  optim::FusedAdamW fused(Groups(fused_params), Options(0.1));
  torch::optim::AdamW reference(Groups(reference_params), Options(0.1));
  for (int step = 1; step <= 3; ++step) {
    StepBoth(fused, fused_params, reference, reference_params, step);
  }
  // Each one's state into a fresh optimizer of the other kind, then both continue.
  const auto transfer = [](const torch::optim::Optimizer& from, torch::optim::Optimizer& to) {
    torch::serialize::OutputArchive out;
    from.save(out);
    std::stringstream bytes;
    out.save_to(bytes);
    torch::serialize::InputArchive in;
    in.load_from(bytes);
    to.load(in);
  };
  const std::vector<torch::Tensor> fused_then_torch = Copies(fused_params);
  const std::vector<torch::Tensor> torch_then_fused = Copies(reference_params);
  torch::optim::AdamW from_fused(Groups(fused_then_torch), Options(0.1));
  optim::FusedAdamW from_torch(Groups(torch_then_fused), Options(0.1));
  transfer(fused, from_fused);
  transfer(reference, from_torch);
  for (int step = 4; step <= 5; ++step) {
    StepBoth(from_torch, torch_then_fused, from_fused, fused_then_torch, step);
  }
  // A lost step count or moment would move them apart by ~lr.
  EXPECT_LE(LargestDifference(torch_then_fused, fused_then_torch), 2 * kBar);
}

TEST(FusedAdamWTest, TakesTorchsStepWhereItCannotFuse) {
  const std::vector<torch::Tensor> initial = InitialParameters();
  const std::vector<torch::Tensor> fused_params = Copies(initial);
  const std::vector<torch::Tensor> reference_params = Copies(initial);
  optim::FusedAdamW fused(Groups(fused_params, /*amsgrad=*/true), Options(0.1, true));
  torch::optim::AdamW reference(Groups(reference_params, /*amsgrad=*/true), Options(0.1, true));
  for (int step = 1; step <= 3; ++step) {
    StepBoth(fused, fused_params, reference, reference_params, step);
  }
  EXPECT_EQ(LargestDifference(fused_params, reference_params), 0.0);
}

}  // namespace
}  // namespace ft
