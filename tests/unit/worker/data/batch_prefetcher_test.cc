// The background batch preparation: the same tensors, in the same order, as collating in the
// loop; a resumed epoch starts mid-way; stopping early (cancel, max_steps) joins the thread; an
// error while collating reaches the training thread.
#include "worker/data/batch_prefetcher.h"

#include <gtest/gtest.h>

#include <memory>
#include <stdexcept>
#include <vector>

#include "tests/unit/worker/torch_test_util.h"
#include "worker/data/epoch_plan.h"

namespace ft {
namespace {

using train::BatchPrefetcher;
using train::PreparedWindow;
using train::Window;

std::vector<int64_t> Lengths(std::size_t n) {
  std::vector<int64_t> lengths;
  for (std::size_t i = 0; i < n; ++i) lengths.push_back(1 + static_cast<int64_t>((i * 37) % 23));
  return lengths;
}

void ExpectSameWindow(const PreparedWindow& got, const PreparedWindow& expected) {
  EXPECT_EQ(got.index, expected.index);
  EXPECT_EQ(got.tokens, expected.tokens);
  EXPECT_EQ(got.padded_slots, expected.padded_slots);
  ASSERT_EQ(got.micro_batches.size(), expected.micro_batches.size());
  for (std::size_t i = 0; i < got.micro_batches.size(); ++i) {
    const train::MicroBatch& a = got.micro_batches[i];
    const train::MicroBatch& b = expected.micro_batches[i];
    EXPECT_TRUE(torch::equal(a.input_ids, b.input_ids)) << "micro-batch " << i;
    EXPECT_TRUE(torch::equal(a.attention_mask, b.attention_mask)) << "micro-batch " << i;
    EXPECT_TRUE(torch::equal(a.labels, b.labels)) << "micro-batch " << i;
    EXPECT_EQ(a.tokens, b.tokens);
  }
}

class BatchPrefetcherTest : public ::testing::Test {
 protected:
  BatchPrefetcherTest()
      : split_(testing::RandomSplit(Lengths(53), 3, 4)),
        windows_(train::PlanEpoch(split_.input_ids.Lengths(), {2, 3, 9, true}, 1)) {}
  train::TokenizedSplit split_;
  std::vector<Window> windows_;
};

TEST_F(BatchPrefetcherTest, GivesTheLoopsBatchesInOrder) {
  ASSERT_EQ(windows_.size(), 9u);  // 8 windows of 6 and one of 5
  for (std::size_t first : {std::size_t{0}, std::size_t{4}, std::size_t{8}}) {
    SCOPED_TRACE(first);
    BatchPrefetcher prefetcher(split_, windows_, first);
    for (std::size_t i = first; i < windows_.size(); ++i) {
      const PreparedWindow got = prefetcher.Next();
      ExpectSameWindow(got, train::PrepareWindow(split_, windows_[i], i, false));
      // And the same as the loop collated before the prefetcher existed.
      for (std::size_t m = 0; m < windows_[i].micro_batches.size(); ++m) {
        const train::MicroBatch direct =
            train::CollateMicroBatch(split_, windows_[i].micro_batches[m], torch::kCPU);
        EXPECT_TRUE(torch::equal(got.micro_batches[m].input_ids, direct.input_ids));
      }
    }
    EXPECT_THROW(prefetcher.Next(), std::logic_error);
  }
}

TEST_F(BatchPrefetcherTest, StopsWhenDroppedEarly) {
  { BatchPrefetcher untouched(split_, windows_, 0); }
  {
    BatchPrefetcher prefetcher(split_, windows_, 0, /*depth=*/1);
    (void)prefetcher.Next();
  }
  // A hang here would be the test's timeout; nothing else to see.
  SUCCEED();
}

TEST_F(BatchPrefetcherTest, AnErrorReachesTheTrainingThreadAtItsWindow) {
  std::vector<Window> windows = windows_;
  windows[2].micro_batches[0][0] = 1000;  // no such example
  BatchPrefetcher prefetcher(split_, windows, 0);
  EXPECT_NO_THROW(prefetcher.Next());
  EXPECT_NO_THROW(prefetcher.Next());
  EXPECT_THROW(prefetcher.Next(), std::out_of_range);
}

TEST(MicroBatchTest, PadsOnTheRightWithMaskZero) {
  const train::TokenizedSplit split = testing::RandomSplit({3, 1}, 2, 5);
  const train::MicroBatch batch = train::CollateMicroBatch(split, {0, 1}, torch::kCPU);
  ASSERT_EQ(batch.input_ids.sizes(), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(batch.tokens, 4);
  EXPECT_EQ(batch.input_ids[1][1].item<int64_t>(), 3);  // <pad>
  EXPECT_EQ(batch.input_ids[1][2].item<int64_t>(), 3);
  EXPECT_TRUE(torch::equal(batch.attention_mask,
                           torch::tensor({1, 1, 1, 1, 0, 0}, torch::kInt64).view({2, 3})));
  EXPECT_EQ(batch.input_ids[0][2].item<int64_t>(), split.input_ids[0][2]);
}

}  // namespace
}  // namespace ft
