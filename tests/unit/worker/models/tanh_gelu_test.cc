// TanhGelu (worker/models/tanh_gelu.h) against LibTorch's torch::gelu(x, "tanh") in float64:
// values and gradients on float32 from far negative to far positive, no worse than LibTorch's own
// float32 kernel; and LibTorch's kernel where it does not apply.
#include <gtest/gtest.h>
#include <torch/types.h>

#include <algorithm>

#include "worker/models/tanh_gelu.h"

namespace ft {
namespace {

// Inputs as activations meet them (randn x 3, 100,000 of them: several parallel tasks) plus the
// tails, where exp is clamped, and zero.
torch::Tensor Inputs() {
  torch::manual_seed(3);
  return torch::cat({torch::randn({100000}) * 3,
                     torch::tensor({0.0f, -0.0f, 1e-30f, -1e-30f, 8.0f, -8.0f, 30.0f, -30.0f,
                                    100.0f, -100.0f, 1e6f, -1e6f})});
}

// |float32 - float64 reference| / max(1, |reference|). LibTorch's float32 kernel is off by up to
// ~1e-6 itself (its backward's 1 - tanh^2 cancels); a coefficient off in its fourth digit
// (0.0447 for 0.044715) moves values near x = 2 by ~2e-5.
double WorstRelative(const torch::Tensor& float32, const torch::Tensor& reference) {
  return ((float32.to(torch::kFloat64) - reference).abs() / reference.abs().clamp_min(1.0))
      .max()
      .item<double>();
}

constexpr double kBar = 1e-6;

TEST(TanhGeluTest, ValuesAsTorchGelu) {
  const torch::Tensor x = Inputs();
  const torch::Tensor ours = models::TanhGelu(x);
  const torch::Tensor reference = torch::gelu(x.to(torch::kFloat64), "tanh");
  EXPECT_FALSE(ours.isnan().any().item<bool>());
  EXPECT_LE(WorstRelative(ours, reference), kBar);
  EXPECT_LE(WorstRelative(ours, reference),
            std::max(2e-7, 2 * WorstRelative(torch::gelu(x, "tanh"), reference)));
}

TEST(TanhGeluTest, GradientsAsTorchGelu) {
  const torch::Tensor x = Inputs();
  const torch::Tensor upstream = torch::randn(x.sizes());
  const torch::Tensor ours_in = x.clone().requires_grad_(true);
  const torch::Tensor torch_in = x.clone().requires_grad_(true);
  const torch::Tensor reference_in = x.to(torch::kFloat64).requires_grad_(true);
  (models::TanhGelu(ours_in) * upstream).sum().backward();
  (torch::gelu(torch_in, "tanh") * upstream).sum().backward();
  (torch::gelu(reference_in, "tanh") * upstream.to(torch::kFloat64)).sum().backward();
  EXPECT_FALSE(ours_in.grad().isnan().any().item<bool>());
  EXPECT_LE(WorstRelative(ours_in.grad(), reference_in.grad()), kBar);
  EXPECT_LE(WorstRelative(ours_in.grad(), reference_in.grad()),
            std::max(2e-7, 2 * WorstRelative(torch_in.grad(), reference_in.grad())));
}

// bfloat16 as bf16 autocast hands it over: computed in float32 and rounded once, so within one
// bfloat16 rounding (2^-9 relative, 2^-8 with the float32 error) of the float64 GeLU of the same
// bfloat16 inputs, and no further from it than LibTorch's bfloat16 kernel.
TEST(TanhGeluTest, Bfloat16RoundsTheFloat32Result) {
  const torch::Tensor x = Inputs().to(torch::kBFloat16);
  const torch::Tensor upstream = torch::randn(x.sizes()).to(torch::kBFloat16);
  const torch::Tensor ours_in = x.clone().requires_grad_(true);
  const torch::Tensor torch_in = x.clone().requires_grad_(true);
  const torch::Tensor exact_in = x.to(torch::kFloat64).requires_grad_(true);
  const torch::Tensor ours = models::TanhGelu(ours_in);
  const torch::Tensor theirs = torch::gelu(torch_in, "tanh");
  const torch::Tensor exact = torch::gelu(exact_in, "tanh");
  EXPECT_EQ(ours.scalar_type(), torch::kBFloat16);
  EXPECT_LE(WorstRelative(ours, exact), 1.0 / 256);
  EXPECT_LE(WorstRelative(ours, exact), WorstRelative(theirs, exact));
  (ours * upstream).sum().backward();
  (theirs * upstream).sum().backward();
  (exact * upstream.to(torch::kFloat64)).sum().backward();
  EXPECT_EQ(ours_in.grad().scalar_type(), torch::kBFloat16);
  EXPECT_LE(WorstRelative(ours_in.grad(), exact_in.grad()), 1.0 / 256);
  EXPECT_LE(WorstRelative(ours_in.grad(), exact_in.grad()),
            WorstRelative(torch_in.grad(), exact_in.grad()));
}

TEST(TanhGeluTest, OtherTensorsTakeTorchsKernel) {
  const torch::Tensor x = Inputs().to(torch::kFloat64);
  EXPECT_TRUE(torch::equal(models::TanhGelu(x), torch::gelu(x, "tanh")));
  const torch::Tensor strided = Inputs().view({-1, 2}).t();  // not contiguous
  EXPECT_TRUE(torch::equal(models::TanhGelu(strided), torch::gelu(strided, "tanh")));
}

}  // namespace
}  // namespace ft
