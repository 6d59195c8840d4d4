// DynamicLossScaler on its own: exact unscaling, inf/NaN detection, back-off and growth, and its
// checkpoint state. (LibTorch 1.13 has no CPU kernels for the fused AMP ops; the scaler's CPU path
// uses plain tensor operations, its CUDA path the fused kernel.)
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <limits>
#include <vector>

#include "worker/train/loss_scaler.h"

namespace ft::train {
namespace {

std::vector<torch::Tensor> ParametersWithGradients(const std::vector<torch::Tensor>& gradients) {
  std::vector<torch::Tensor> parameters;
  for (const torch::Tensor& gradient : gradients) {
    torch::Tensor parameter = torch::zeros_like(gradient).requires_grad_(true);
    parameter.mutable_grad() = gradient.clone();
    parameters.push_back(parameter);
  }
  return parameters;
}

TEST(LossScalerTest, UnscalesExactlyAndReportsFinite) {
  DynamicLossScaler scaler;
  ASSERT_EQ(scaler.scale(), 65536.0);
  const torch::Tensor a = torch::randn({3, 4});
  const torch::Tensor b = torch::randn({5});
  auto parameters = ParametersWithGradients({a * 65536.0, b * 65536.0});
  EXPECT_TRUE(scaler.UnscaleAndCheckFinite(parameters));
  EXPECT_TRUE(torch::equal(parameters[0].grad(), a));
  EXPECT_TRUE(torch::equal(parameters[1].grad(), b));
}

TEST(LossScalerTest, DetectsInfAndNanInAnyGradient) {
  for (const float bad : {std::numeric_limits<float>::infinity(),
                          -std::numeric_limits<float>::infinity(),
                          std::numeric_limits<float>::quiet_NaN()}) {
    DynamicLossScaler scaler;
    torch::Tensor second = torch::ones({4});
    second[2] = bad;
    auto parameters = ParametersWithGradients({torch::ones({2}), second});
    EXPECT_FALSE(scaler.UnscaleAndCheckFinite(parameters)) << bad;
  }
  // A parameter without a gradient (frozen, or unused in the window) is skipped.
  DynamicLossScaler scaler;
  std::vector<torch::Tensor> parameters = ParametersWithGradients({torch::ones({2})});
  parameters.push_back(torch::zeros({3}).requires_grad_(true));
  EXPECT_TRUE(scaler.UnscaleAndCheckFinite(parameters));
}

TEST(LossScalerTest, BacksOffOnOverflowAndGrowsAfterCleanInterval) {
  LossScalerOptions options;
  options.initial_scale = 1024;
  options.growth_interval = 3;
  DynamicLossScaler scaler(options);
  scaler.Update(false);
  EXPECT_EQ(scaler.scale(), 512);
  scaler.Update(true);
  scaler.Update(true);
  EXPECT_EQ(scaler.scale(), 512) << "grows only after growth_interval clean steps";
  scaler.Update(false);  // an overflow restarts the count
  EXPECT_EQ(scaler.scale(), 256);
  scaler.Update(true);
  scaler.Update(true);
  EXPECT_EQ(scaler.growth_tracker(), 2);
  scaler.Update(true);
  EXPECT_EQ(scaler.scale(), 512);
  EXPECT_EQ(scaler.growth_tracker(), 0);
}

TEST(LossScalerTest, StateRoundTrips) {
  LossScalerOptions options;
  options.growth_interval = 10;
  DynamicLossScaler scaler(options);
  scaler.Update(false);
  scaler.Update(true);
  DynamicLossScaler restored(options);
  restored.LoadStateTensor(scaler.StateTensor());
  EXPECT_EQ(restored.scale(), 32768);
  EXPECT_EQ(restored.growth_tracker(), 1);
  EXPECT_THROW(restored.LoadStateTensor(torch::zeros({3}, torch::kFloat64)), std::runtime_error);
}

TEST(LossScalerTest, RefusesInvalidOptions) {
  LossScalerOptions zero_scale;
  zero_scale.initial_scale = 0;
  EXPECT_THROW(DynamicLossScaler{zero_scale}, std::invalid_argument);
  LossScalerOptions backoff_one;
  backoff_one.backoff_factor = 1;
  EXPECT_THROW(DynamicLossScaler{backoff_one}, std::invalid_argument);
}

}  // namespace
}  // namespace ft::train
