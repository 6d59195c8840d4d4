// The fused CPU attention (worker/models/fused_attention.h) against LibTorch's operators it
// replaces (AttentionWithBiasOps for BLOOM, AttentionBlockedOps for the other families): output
// and the gradients of query, key and value, on the masks the models build (padded, causal,
// packed rows, fully blocked rows of left padding), with query, key and value as strided views of
// one fused projection as BLOOM hands them over.
#include "worker/models/fused_attention.h"

#include <gtest/gtest.h>
#include <torch/types.h>

#include <cmath>
#include <iostream>
#include <string>

#include "tests/support/prerequisite.h"
#include "worker/models/attention_kernel.h"
#include "worker/models/bloom_model.h"
#include "worker/models/transformer_parts.h"

namespace ft {
namespace {

using models::RowLayout;

// max |ours - reference| / max |reference|: float32 sums in another order differ by a few ulp
// of the largest term; a wrong term moves a gradient by percents.
double ErrorRelativeToLargest(const torch::Tensor& ours, const torch::Tensor& reference) {
  const torch::Tensor exact = reference.to(torch::kFloat64);
  return ((ours.to(torch::kFloat64) - exact).abs().max() / exact.abs().max()).item<double>();
}

// Against the same operators in float32 (the path it replaces, itself off by up to ~1e-6 on these
// inputs) and in float64. With BLOOM's bias, a fully blocked row's scores are -1e4 + q k, which
// float32 holds to ~1e-3 on both paths alike (1e-4 from float64 in the end): there the float64
// figures are printed, not checked.
constexpr double kBar = 1e-6;
constexpr double kBarAgainstFloat32 = 2e-6;

struct Case {
  std::string name;
  torch::Tensor attention_mask;  // [batch, seq]: 1/0, or example ids for packed rows
  int64_t heads;
  int64_t dim;
  RowLayout rows = RowLayout::kOneExample;
};

// Right padding, left padding (whose first query sees no key: a fully blocked row) and a full row.
torch::Tensor PaddedMask(int64_t seq) {
  torch::Tensor mask = torch::ones({3, seq}, torch::kInt64);
  mask[0].narrow(0, seq - 9, 9).zero_();
  mask[1].narrow(0, 0, 5).zero_();
  return mask;
}

// Two rows of packed examples (ids 1, 2, 3 ...) with padding (0) at the end.
torch::Tensor PackedMask() {
  return torch::tensor({1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0, 0,
                        1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2},
                       torch::kInt64)
      .view({2, 23});
}

// The inputs as BLOOM's attention slices them from its fused projection [batch, seq, heads,
// (q|k|v), dim]; the gradients end in that one tensor.
struct FusedInputs {
  torch::Tensor fused;
  torch::Tensor Part(int64_t which) const { return fused.select(3, which).transpose(1, 2); }
};

FusedInputs RandomInputs(int64_t batch, int64_t seq, int64_t heads, int64_t dim) {
  return {torch::randn({batch, seq, heads, 3, dim}).mul_(2.0).requires_grad_(true)};
}

struct Result {
  torch::Tensor output;
  torch::Tensor grad;
};

template <typename Attention>
Result RunAttention(const Attention& attention, const torch::Tensor& fused,
                    const torch::Tensor& upstream) {
  const torch::Tensor input = fused.detach().clone().requires_grad_(true);
  const FusedInputs parts{input};
  const torch::Tensor output = attention(parts.Part(0), parts.Part(1), parts.Part(2));
  (output * upstream).sum().backward();
  return {output.detach(), input.grad()};
}

// Ours against LibTorch's operators in float32 and float64; prints the figures (the report
// quotes them).
enum class Float64 { kChecked, kPrinted };

template <typename Fused, typename Ops>
void ExpectSame(const std::string& what, const Fused& fused, const Ops& ops,
                const torch::Tensor& inputs, const torch::Tensor& upstream,
                Float64 float64_check = Float64::kChecked) {
  const Result ours = RunAttention(fused, inputs, upstream);
  const Result float32 = RunAttention(ops, inputs, upstream);
  const Result float64 =
      RunAttention(ops, inputs.to(torch::kFloat64), upstream.to(torch::kFloat64));
  const double output_error = ErrorRelativeToLargest(ours.output, float64.output);
  const double grad_error = ErrorRelativeToLargest(ours.grad, float64.grad);
  const double output_error32 = ErrorRelativeToLargest(ours.output, float32.output);
  const double grad_error32 = ErrorRelativeToLargest(ours.grad, float32.grad);
  std::cout << what << ": against float64 output " << output_error << ", gradients " << grad_error
            << "; against float32 ops " << output_error32 << ", " << grad_error32
            << "; float32 ops against float64 "
            << ErrorRelativeToLargest(float32.output, float64.output) << ", "
            << ErrorRelativeToLargest(float32.grad, float64.grad) << "\n";
  if (float64_check == Float64::kChecked) {
    EXPECT_LE(output_error, kBar) << what;
    EXPECT_LE(grad_error, kBar) << what;
  }
  EXPECT_LE(output_error32, kBarAgainstFloat32) << what;
  EXPECT_LE(grad_error32, kBarAgainstFloat32) << what;
  EXPECT_FALSE(ours.grad.isnan().any().item<bool>()) << what;
}

// BLOOM's bias: ALiBi where a query may look, -1e4 where it may not.
torch::Tensor BloomBias(const Case& c) {
  const torch::Tensor alibi =
      models::BuildAlibi(c.attention_mask, c.heads, torch::kFloat32, c.rows);
  return models::BloomAttentionBias(
      alibi, models::AttentionBlockedMask(c.attention_mask, /*causal=*/true, 0, c.rows));
}

std::vector<Case> Cases() {
  return {{"bloom-small padded", PaddedMask(37), 8, 32},
          {"bloom-560m padded", PaddedMask(21), 16, 64},
          {"packed", PackedMask(), 4, 32, RowLayout::kPacked},
          {"head_dim 8", PaddedMask(13), 2, 8}};
}

// The kernels need AVX2 and FMA; elsewhere the models keep LibTorch's operators.
class FusedAttentionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!models::AttentionKernelSupported()) {
      FT_SKIP_PREREQUISITE_MISSING() << "this CPU lacks AVX2 or FMA";
    }
  }
};

TEST_F(FusedAttentionTest, BiasedAsBaddbmmSoftmaxBmm) {
  torch::manual_seed(17);
  for (const Case& c : Cases()) {
    const int64_t batch = c.attention_mask.size(0);
    const int64_t seq = c.attention_mask.size(1);
    const FusedInputs inputs = RandomInputs(batch, seq, c.heads, c.dim);
    const torch::Tensor upstream = torch::randn({batch, seq, c.heads * c.dim});
    const torch::Tensor bias = BloomBias(c);
    const double scale = 1.0 / std::sqrt(static_cast<double>(c.dim));
    ASSERT_TRUE(
        models::FusedAttentionApplies(inputs.Part(0), inputs.Part(1), inputs.Part(2), bias));
    const auto fused = [&](const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v) {
      return models::FusedAttentionWithBias(q, k, v, bias, scale);
    };
    const auto ops = [&](const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v) {
      return models::AttentionWithBiasOps(q, k, v, bias.to(q.scalar_type()), scale);
    };
    ExpectSame(c.name + " (bias)", fused, ops, inputs.fused, upstream, Float64::kPrinted);
  }
}

// The last-block shortcut: one query per row (its last token), every key.
TEST_F(FusedAttentionTest, BiasedForOneQueryPerRow) {
  torch::manual_seed(18);
  const Case c{"one query", PaddedMask(29), 8, 32};
  const FusedInputs inputs = RandomInputs(3, 29, c.heads, c.dim);
  const torch::Tensor positions = models::LastTokenPositions(c.attention_mask);
  const torch::Tensor bias = models::TakeQueryRows(BloomBias(c), positions);
  const torch::Tensor upstream = torch::randn({3, 1, c.heads * c.dim});
  const auto query_rows = [&](const torch::Tensor& q) {
    return models::TakePositions(q.transpose(1, 2).flatten(2), positions)
        .view({3, 1, c.heads, c.dim})
        .transpose(1, 2);
  };
  const auto fused = [&](const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v) {
    return models::FusedAttentionWithBias(query_rows(q), k, v, bias, 0.25);
  };
  const auto ops = [&](const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v) {
    return models::AttentionWithBiasOps(query_rows(q), k, v, bias.to(q.scalar_type()), 0.25);
  };
  ExpectSame(c.name, fused, ops, inputs.fused, upstream);
}

TEST_F(FusedAttentionTest, BlockedAsMaskedFillSoftmaxBmm) {
  torch::manual_seed(19);
  for (const Case& c : Cases()) {
    for (const bool causal : {true, false}) {
      const int64_t batch = c.attention_mask.size(0);
      const int64_t seq = c.attention_mask.size(1);
      const FusedInputs inputs = RandomInputs(batch, seq, c.heads, c.dim);
      const torch::Tensor upstream = torch::randn({batch, seq, c.heads * c.dim});
      const torch::Tensor blocked =
          models::AttentionBlockedMask(c.attention_mask, causal, 0, c.rows);
      const double scale = 1.0 / std::sqrt(static_cast<double>(c.dim));
      const auto fused = [&](const torch::Tensor& q, const torch::Tensor& k,
                             const torch::Tensor& v) {
        return models::FusedAttentionBlocked(q, k, v, blocked, scale);
      };
      const auto ops = [&](const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v) {
        return models::AttentionBlockedOps(q, k, v, blocked, scale);
      };
      ExpectSame(c.name + (causal ? " (blocked, causal)" : " (blocked)"), fused, ops, inputs.fused,
                 upstream);
    }
  }
}

// A padding query sees no key: a uniform distribution over all of them, finite gradients.
TEST_F(FusedAttentionTest, FullyBlockedRowAttendsUniformly) {
  torch::manual_seed(20);
  const torch::Tensor value = torch::randn({1, 1, 5, 8});
  const torch::Tensor blocked = torch::ones({1, 1, 2, 5}, torch::kBool);
  const torch::Tensor output = models::FusedAttentionBlocked(
      torch::randn({1, 1, 2, 8}), torch::randn({1, 1, 5, 8}), value, blocked, 0.5);
  const torch::Tensor mean = value.mean(2).view({1, 1, 8}).expand({1, 2, 8});
  EXPECT_LE(ErrorRelativeToLargest(output, mean), kBar);
}

TEST_F(FusedAttentionTest, LeavesWhatItDoesNotCover) {
  const torch::Tensor q = torch::randn({1, 2, 4, 8});
  const torch::Tensor bias = torch::zeros({1, 2, 4, 4});
  EXPECT_TRUE(models::FusedAttentionApplies(q, q, q, bias));
  EXPECT_FALSE(models::FusedAttentionApplies(q.to(torch::kFloat64), q, q, bias));
  EXPECT_FALSE(models::FusedAttentionApplies(q.to(torch::kBFloat16), q.to(torch::kBFloat16),
                                             q.to(torch::kBFloat16), bias));
  const torch::Tensor odd = torch::randn({1, 2, 4, 12});  // head_dim not a multiple of 8
  EXPECT_FALSE(models::FusedAttentionApplies(odd, odd, odd, bias));
  EXPECT_FALSE(models::FusedAttentionApplies(q, q, q, bias.clone().requires_grad_(true)));
}

}  // namespace
}  // namespace ft
