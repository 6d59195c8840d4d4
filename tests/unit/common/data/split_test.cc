// SplitSeeded: deterministic, disjoint, order-keeping, with the documented sizes.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "common/data/dataset.h"

namespace ft::data {
namespace {

std::vector<RawExample> Numbered(std::size_t n) {
  std::vector<RawExample> examples;
  for (std::size_t i = 0; i < n; ++i) {
    examples.push_back(RawExample{"text " + std::to_string(i), std::to_string(i % 2), i + 1});
  }
  return examples;
}

std::vector<std::size_t> Lines(const std::vector<RawExample>& examples) {
  std::vector<std::size_t> lines;
  for (const RawExample& example : examples) lines.push_back(example.line);
  return lines;
}

TEST(SplitSeededTest, SameSeedSameSplit) {
  const auto a = SplitSeeded(Numbered(1000), 0.1, 42);
  const auto b = SplitSeeded(Numbered(1000), 0.1, 42);
  EXPECT_EQ(Lines(a.first), Lines(b.first));
  EXPECT_EQ(Lines(a.second), Lines(b.second));
  const auto c = SplitSeeded(Numbered(1000), 0.1, 43);
  EXPECT_NE(Lines(a.second), Lines(c.second));
}

// Pins the algorithm (mt19937_64 + own Fisher-Yates), which is portable across standard
// libraries: a change here changes every job's validation split. Cross-checked with a pure
// Python mt19937_64.
TEST(SplitSeededTest, GoldenSplit) {
  const auto split = SplitSeeded(Numbered(20), 0.25, 1234);
  EXPECT_EQ(Lines(split.second), (std::vector<std::size_t>{3, 4, 6, 10, 18}));
}

TEST(SplitSeededTest, DisjointCompleteAndOrdered) {
  std::vector<RawExample> examples = Numbered(537);
  const auto [train, validation] = SplitSeeded(examples, 0.2, 7);
  EXPECT_EQ(validation.size(), 107u);  // llround(107.4)
  EXPECT_EQ(train.size(), 430u);
  std::vector<int> seen(538, 0);
  for (const auto* part : {&train, &validation}) {
    for (std::size_t i = 0; i < part->size(); ++i) {
      const RawExample& example = (*part)[i];
      ++seen[example.line];
      EXPECT_EQ(example.text, "text " + std::to_string(example.line - 1));
      if (i > 0) {
        EXPECT_LT((*part)[i - 1].line, example.line);
      }
    }
  }
  for (std::size_t line = 1; line <= 537; ++line) EXPECT_EQ(seen[line], 1) << line;
}

TEST(SplitSeededTest, Sizes) {
  const auto sizes = [](std::size_t n, double fraction) {
    const auto split = SplitSeeded(Numbered(n), fraction, 1);
    EXPECT_EQ(split.first.size() + split.second.size(), n);
    return split.second.size();
  };
  EXPECT_EQ(sizes(10, 0.2), 2u);
  EXPECT_EQ(sizes(10, 0.25), 3u);  // llround rounds half away from zero
  EXPECT_EQ(sizes(10, 0.04), 1u);  // rounds to 0, clamped so validation is not empty
  EXPECT_EQ(sizes(2, 0.01), 1u);
  EXPECT_EQ(sizes(3, 0.99), 2u);  // training keeps one
  EXPECT_EQ(sizes(3, 5.0), 2u);
  EXPECT_EQ(sizes(1, 0.5), 0u);
  EXPECT_EQ(sizes(0, 0.5), 0u);
  EXPECT_EQ(sizes(10, 0.0), 0u);  // no split asked for
  EXPECT_EQ(sizes(10, -1.0), 0u);
}

// Every example is about equally likely to land in validation (no modulo bias, no fixed
// positions).
TEST(SplitSeededTest, RoughlyUniform) {
  constexpr int kSeeds = 4000;
  std::vector<int> chosen(10, 0);
  for (int seed = 0; seed < kSeeds; ++seed) {
    for (const RawExample& example : SplitSeeded(Numbered(10), 0.3, seed).second) {
      ++chosen[example.line - 1];
    }
  }
  // Expected 1200 each; the standard deviation is about 29.
  for (int count : chosen) {
    EXPECT_GT(count, 1050);
    EXPECT_LT(count, 1350);
  }
}

}  // namespace
}  // namespace ft::data
