// How a gang shares a window's micro-batches (rank_share.h): every example once, micro-batch i
// on rank i % world, and a similar amount of work on every rank.
#include "worker/distributed/rank_share.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <vector>

namespace ft::distributed {
namespace {

using train::Window;

// A window of `count` examples 0..count-1 (already sorted longest first) cut into micro-batches
// of `micro`, as PlanEpoch cuts it.
Window SortedWindow(std::size_t count, std::size_t micro) {
  std::vector<std::size_t> order(count);
  for (std::size_t i = 0; i < count; ++i) order[i] = i;
  return train::PlanWindows(order, static_cast<int64_t>(micro), 1'000'000).front();
}

// Each rank's examples, taken from the micro-batches that IsRanksShare gives it.
std::vector<std::vector<std::size_t>> ExamplesPerRank(const Window& window, int world) {
  std::vector<std::vector<std::size_t>> examples(static_cast<std::size_t>(world));
  for (std::size_t i = 0; i < window.micro_batches.size(); ++i) {
    for (int rank = 0; rank < world; ++rank) {
      if (!IsRanksShare(i, rank, world)) continue;
      auto& mine = examples[static_cast<std::size_t>(rank)];
      mine.insert(mine.end(), window.micro_batches[i].begin(), window.micro_batches[i].end());
    }
  }
  return examples;
}

// Token slots a rank computes: each of its micro-batches padded to its longest example.
std::size_t PaddedSlots(const Window& window, int rank, int world,
                        const std::vector<std::size_t>& lengths) {
  std::size_t slots = 0;
  for (std::size_t i = 0; i < window.micro_batches.size(); ++i) {
    if (!IsRanksShare(i, rank, world)) continue;
    std::size_t longest = 0;
    for (std::size_t example : window.micro_batches[i]) {
      longest = std::max(longest, lengths[example]);
    }
    slots += longest * window.micro_batches[i].size();
  }
  return slots;
}

TEST(DealWindowTest, EveryExampleOnceAndEachRankGetsTheDealtOnes) {
  for (int world : {2, 3, 4}) {
    for (std::size_t micro : {1u, 2u, 3u, 8u}) {
      for (std::size_t count : {1u, 2u, 5u, 7u, 16u, 23u}) {
        const Window dealt = DealWindow(SortedWindow(count, micro), world,
                                        static_cast<int64_t>(micro));
        const auto per_rank = ExamplesPerRank(dealt, world);
        std::vector<std::size_t> all;
        for (int rank = 0; rank < world; ++rank) {
          const auto& mine = per_rank[static_cast<std::size_t>(rank)];
          for (std::size_t e = 0; e < mine.size(); ++e) {
            // Example e is rank e % world's, in order.
            EXPECT_EQ(mine[e], static_cast<std::size_t>(rank) + e * static_cast<std::size_t>(world))
                << "world " << world << " micro " << micro << " count " << count;
          }
          all.insert(all.end(), mine.begin(), mine.end());
        }
        std::sort(all.begin(), all.end());
        ASSERT_EQ(all.size(), count);
        for (std::size_t i = 0; i < count; ++i) EXPECT_EQ(all[i], i);
        for (const auto& micro_batch : dealt.micro_batches) {
          EXPECT_GE(micro_batch.size(), 1u);
          EXPECT_LE(micro_batch.size(), micro);
        }
      }
    }
  }
}

TEST(DealWindowTest, RanksComputeSimilarPaddedSlots) {
  // Sixteen examples sorted longest first (160, 150, ..., 10 tokens), micro-batches of 4, two
  // ranks. Dealing whole micro-batches in turn gives rank 0 960 slots and rank 1 640 (the
  // longest micro-batch of every pair); dealing examples gives 960 and 880.
  std::vector<std::size_t> lengths;
  for (std::size_t i = 0; i < 16; ++i) lengths.push_back(160 - 10 * i);
  const Window dealt = DealWindow(SortedWindow(16, 4), 2, 4);
  const double rank0 = static_cast<double>(PaddedSlots(dealt, 0, 2, lengths));
  const double rank1 = static_cast<double>(PaddedSlots(dealt, 1, 2, lengths));
  EXPECT_EQ(rank0, 960);
  EXPECT_GE(rank1 / rank0, 0.9);
}

TEST(DealWindowTest, LeavesOneProcessAndPackedWindowsAsTheyAre) {
  const Window window = SortedWindow(10, 3);
  EXPECT_EQ(DealWindow(window, 1, 3).micro_batches, window.micro_batches);
  Window packed = window;
  packed.examples_per_row.assign(packed.micro_batches.size(), {1});
  EXPECT_EQ(DealWindow(packed, 2, 3).micro_batches, window.micro_batches);
}

}  // namespace
}  // namespace ft::distributed
