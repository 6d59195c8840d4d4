#include "client/lib/plot/nice_scale.h"

#include <cmath>
#include <limits>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ft::client {
namespace {

using ::testing::DoubleNear;
using ::testing::ElementsAre;

TEST(NiceScaleTest, RoundStepsCoverTheData) {
  NiceScale s = MakeNiceScale(0, 1, 6);
  EXPECT_EQ(s.step, 0.2);
  EXPECT_THAT(s.ticks, ElementsAre(0, 0.2, 0.4, DoubleNear(0.6, 1e-12), 0.8, 1));

  s = MakeNiceScale(0.31, 0.72, 6);  // a loss curve
  EXPECT_DOUBLE_EQ(s.step, 0.1);
  EXPECT_DOUBLE_EQ(s.min, 0.3);
  EXPECT_DOUBLE_EQ(s.max, 0.8);
  EXPECT_EQ(s.ticks.size(), 6u);

  s = MakeNiceScale(0, 35000, 6);  // examples seen
  EXPECT_EQ(s.step, 10000);
  EXPECT_THAT(s.ticks, ElementsAre(0, 10000, 20000, 30000, 40000));

  s = MakeNiceScale(-3, 7, 7);
  EXPECT_EQ(s.step, 2);
  EXPECT_THAT(s.ticks, ElementsAre(-4, -2, 0, 2, 4, 6, 8));
  s = MakeNiceScale(-3, 7, 6);  // 7 ticks of 2 do not fit: 5
  EXPECT_THAT(s.ticks, ElementsAre(-5, 0, 5, 10));
  // Two ticks cannot straddle 0: three are the least.
  EXPECT_THAT(MakeNiceScale(-123.4, 126.6, 2).ticks, ElementsAre(-200, 0, 200));
}

TEST(NiceScaleTest, StepsAreOneTwoOrFiveTimesAPowerOfTenAndFitTheTickBudget) {
  for (double lo : {-123.4, 0.0, 0.001, 17.0}) {
    for (double span : {1e-4, 0.37, 1.0, 9.99, 250.0, 1e6}) {
      for (int max_ticks : {3, 5, 6, 10}) {
        const NiceScale s = MakeNiceScale(lo, lo + span, max_ticks);
        SCOPED_TRACE(testing::Message() << lo << " + " << span << " / " << max_ticks);
        EXPECT_LE(static_cast<int>(s.ticks.size()), max_ticks);
        EXPECT_GE(s.ticks.size(), 2u);
        // Within rounding (a billionth of a step) of the data.
        EXPECT_LE(s.min, lo + 1e-9 * s.step);
        EXPECT_GE(s.max, lo + span - 1e-9 * s.step);
        const double mantissa = s.step / std::pow(10.0, std::floor(std::log10(s.step) + 1e-9));
        EXPECT_TRUE(std::abs(mantissa - 1) < 1e-9 || std::abs(mantissa - 2) < 1e-9 ||
                    std::abs(mantissa - 5) < 1e-9)
            << s.step;
        for (double tick : s.ticks) {
          EXPECT_NEAR(tick / s.step, std::round(tick / s.step), 1e-6) << "a multiple of the step";
        }
      }
    }
  }
}

TEST(NiceScaleTest, DegenerateInput) {
  EXPECT_THAT(MakeNiceScale(0, 0).ticks, ElementsAre(0, 0.2, 0.4, DoubleNear(0.6, 1e-12), 0.8, 1));
  const NiceScale flat = MakeNiceScale(50, 50);  // a constant accuracy
  EXPECT_LT(flat.min, 50);
  EXPECT_GT(flat.max, 50);
  const NiceScale reversed = MakeNiceScale(10, 0);
  EXPECT_EQ(reversed.min, 0);
  EXPECT_EQ(reversed.max, 10);
  const NiceScale bad = MakeNiceScale(std::nan(""), std::numeric_limits<double>::infinity());
  EXPECT_EQ(bad.min, 0);
  EXPECT_EQ(bad.max, 1);
}

TEST(NiceScaleTest, LabelsHaveJustEnoughDecimals) {
  EXPECT_EQ(FormatTick(0.25, 0.05), "0.25");
  EXPECT_EQ(FormatTick(0.4, 0.2), "0.4");
  EXPECT_EQ(FormatTick(0.30000000000000004, 0.1), "0.3");
  EXPECT_EQ(FormatTick(2, 1), "2");
  EXPECT_EQ(FormatTick(40, 20), "40");
  EXPECT_EQ(FormatTick(-1e-17, 0.1), "0") << "no -0";
  EXPECT_EQ(FormatTick(20000, 10000), "20k");
  EXPECT_EQ(FormatTick(3e6, 1e6), "3M");
  EXPECT_EQ(FormatTick(0, 1000), "0");
  EXPECT_EQ(FormatTick(std::nan(""), 1), "?");
}

}  // namespace
}  // namespace ft::client
