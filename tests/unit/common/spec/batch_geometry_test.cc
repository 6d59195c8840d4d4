// spec::ResolveBatchGeometry and its place in ValidateSpec: micro_batch_size, accumulation_steps,
// effective_batch_size and auto_micro_batch, alone and together, with messages naming the fields.
#include "common/spec/batch_geometry.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/strings/match.h"
#include "common/spec/spec_defaults.h"
#include "common/spec/spec_limits.h"
#include "common/spec/spec_validation.h"
#include "tests/unit/server/server_test_util.h"

namespace ft::spec {
namespace {

using ft::v1::JobSpec;

JobSpec Batch(uint32_t micro, uint32_t accumulation, uint32_t effective, bool automatic = false) {
  JobSpec spec;
  spec.set_micro_batch_size(micro);
  spec.set_accumulation_steps(accumulation);
  spec.set_effective_batch_size(effective);
  spec.set_auto_micro_batch(automatic);
  return spec;
}

void ExpectRefused(const JobSpec& spec, std::initializer_list<const char*> fields) {
  const absl::StatusOr<BatchGeometry> geometry = ResolveBatchGeometry(spec);
  ASSERT_FALSE(geometry.ok()) << spec.ShortDebugString();
  EXPECT_EQ(geometry.status().code(), absl::StatusCode::kInvalidArgument);
  for (const char* field : fields) {
    EXPECT_TRUE(absl::StrContains(geometry.status().message(), field))
        << field << " in: " << geometry.status().message();
  }
}

TEST(BatchGeometryTest, MicroTimesAccumulationAsBefore) {
  const auto geometry = ResolveBatchGeometry(Batch(8, 4, 0));
  ASSERT_TRUE(geometry.ok()) << geometry.status();
  EXPECT_EQ(geometry->micro_batch_size, 8u);
  EXPECT_EQ(geometry->accumulation_steps, 4u);
  EXPECT_EQ(geometry->effective_batch_size, 32u);
  EXPECT_FALSE(geometry->auto_micro_batch);
  ExpectRefused(Batch(0, 4, 0), {"spec.micro_batch_size"});
  ExpectRefused(Batch(8, 0, 0), {"spec.accumulation_steps", "effective_batch_size"});
}

// A gang: micro-batch and accumulation are per rank, so a step takes world x micro x accumulation.
TEST(BatchGeometryTest, WorldSizeMultipliesTheStepAndDividesTheDerivedAccumulation) {
  JobSpec spec = Batch(2, 2, 0);
  spec.set_world_size(2);
  auto geometry = ResolveBatchGeometry(spec);
  ASSERT_TRUE(geometry.ok()) << geometry.status();
  EXPECT_EQ(geometry->effective_batch_size, 8u);
  spec = Batch(2, 0, 8);
  spec.set_world_size(2);
  geometry = ResolveBatchGeometry(spec);
  ASSERT_TRUE(geometry.ok()) << geometry.status();
  EXPECT_EQ(geometry->accumulation_steps, 2u);
  spec = Batch(2, 4, 8);  // 2 x 4 x 2 = 16, not 8
  spec.set_world_size(2);
  ExpectRefused(spec, {"spec.effective_batch_size", "spec.world_size", "16"});
  spec = Batch(4, 0, 12);  // 12 is a multiple of 4 but not of 2 x 4
  spec.set_world_size(2);
  ExpectRefused(spec, {"spec.effective_batch_size", "world_size 2"});
}

TEST(BatchGeometryTest, EffectiveBatchDerivesAccumulationWhenItDivides) {
  const auto geometry = ResolveBatchGeometry(Batch(8, 0, 32));
  ASSERT_TRUE(geometry.ok()) << geometry.status();
  EXPECT_EQ(geometry->accumulation_steps, 4u);
  EXPECT_EQ(geometry->effective_batch_size, 32u);
  // Both given and consistent: fine.
  EXPECT_TRUE(ResolveBatchGeometry(Batch(8, 4, 32)).ok());
  // Not a multiple: refused naming both fields.
  ExpectRefused(Batch(8, 0, 30), {"spec.effective_batch_size", "spec.micro_batch_size", "30"});
  // Both given and inconsistent: refused naming both.
  ExpectRefused(Batch(8, 2, 32), {"spec.effective_batch_size", "spec.accumulation_steps", "16"});
  // Out of bounds.
  ExpectRefused(Batch(8, 0, kMaxEffectiveBatchSize + 8), {"spec.effective_batch_size"});
  ExpectRefused(Batch(1, 0, kMaxAccumulationSteps + 1), {"accumulation steps"});
}

TEST(BatchGeometryTest, AutoMicroBatchNeedsAnEffectiveBatch) {
  const auto limit_free = ResolveBatchGeometry(Batch(0, 0, 32, true));
  ASSERT_TRUE(limit_free.ok()) << limit_free.status();
  EXPECT_TRUE(limit_free->auto_micro_batch);
  EXPECT_EQ(limit_free->micro_batch_size, 0u);  // no limit
  EXPECT_EQ(limit_free->accumulation_steps, 0u);  // the worker derives it
  EXPECT_EQ(limit_free->effective_batch_size, 32u);

  const auto limited = ResolveBatchGeometry(Batch(8, 0, 30, true));
  ASSERT_TRUE(limited.ok()) << "the worker picks a divisor of 30 up to 8";
  EXPECT_EQ(limited->micro_batch_size, 8u);

  const auto from_product = ResolveBatchGeometry(Batch(8, 2, 0, true));
  ASSERT_TRUE(from_product.ok()) << from_product.status();
  EXPECT_EQ(from_product->effective_batch_size, 16u);
  EXPECT_EQ(from_product->accumulation_steps, 0u);

  ExpectRefused(Batch(0, 0, 0, true), {"spec.auto_micro_batch", "spec.effective_batch_size"});
  ExpectRefused(Batch(0, 4, 32, true), {"spec.effective_batch_size", "spec.accumulation_steps"});
}

TEST(BatchGeometryTest, ValidateSpecUsesTheSameRules) {
  ft::testing::TempDir dir;
  const std::string csv = dir.Write("train.csv", ft::testing::SmallCsv());
  const auto validate = [&](uint32_t micro, uint32_t accumulation, uint32_t effective,
                            bool automatic) {
    JobSpec spec = WithDefaults(ft::testing::ValidSpec(csv), dir.path().string());
    spec.set_micro_batch_size(micro);
    spec.set_accumulation_steps(accumulation);
    spec.set_effective_batch_size(effective);
    spec.set_auto_micro_batch(automatic);
    return ValidateSpec(spec);
  };
  EXPECT_TRUE(validate(4, 0, 16, false).ok());
  EXPECT_TRUE(validate(0, 0, 16, true).ok());
  const absl::Status refused = validate(4, 0, 18, false);
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(refused.message(), "spec.effective_batch_size")) << refused;
}

}  // namespace
}  // namespace ft::spec
