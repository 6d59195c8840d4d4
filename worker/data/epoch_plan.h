// An epoch's windows, with lengths in view: windows first, micro-batches second.
//
// 1. The order: EpochOrder (a seeded shuffle), or with group_by_length a length-grouped order of
//    WHOLE windows: the shuffled order is cut into megabatches of kWindowsPerMegabatch windows,
//    each megabatch is sorted by length (longest first), cut into windows, and the full windows
//    of the epoch are shuffled (seeded); the short last window, if any, stays last. Windows hold
//    examples of similar length yet come in random order.
// 2. The order is cut into windows of micro_batch_size x accumulation_steps examples.
// 3. Inside each window the examples are sorted by length (longest first, ties in order) before
//    the window is cut into micro-batches, so that each micro-batch pads less. A window's gradient
//    is the mean over its examples (train_step.h), so this order does not change it.
// Everything depends only on (lengths, seed, epoch, window size): micro 2 x 4 and micro 8 x 1 get
// windows with the same members under either sampler. Standard library only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "worker/data/example_sampler.h"

namespace ft::train {

inline constexpr std::size_t kWindowsPerMegabatch = 50;

struct EpochPlanOptions {
  int64_t micro_batch_size = 1;
  int64_t accumulation_steps = 1;
  uint64_t seed = 0;
  bool group_by_length = false;
};

// The length-grouped order of step 1 for windows of `window_size` examples.
std::vector<std::size_t> LengthGroupedOrder(const std::vector<std::size_t>& lengths,
                                            uint64_t seed, int64_t epoch,
                                            std::size_t window_size);

// Steps 1-3 for `epoch` (1-based); lengths[i] is example i's token count.
std::vector<Window> PlanEpoch(const std::vector<std::size_t>& lengths,
                              const EpochPlanOptions& options, int64_t epoch);

// Padding of a plan: each micro-batch is padded to its longest row (example, or packed row).
struct PaddingCount {
  int64_t tokens = 0;  // real tokens
  int64_t slots = 0;   // tokens + padding
  double fraction() const {
    return slots > 0 ? static_cast<double>(slots - tokens) / static_cast<double>(slots) : 0.0;
  }
};
PaddingCount CountPadding(const std::vector<Window>& windows,
                          const std::vector<std::size_t>& lengths);

// The same examples in the same order, cut into micro-batches of `micro_batch_size` (after a CUDA
// out-of-memory error lowered it).
Window RecutWindow(const Window& window, int64_t micro_batch_size);

// The largest divisor of `total` that is at most `limit` (at least 1).
int64_t LargestDivisorAtMost(int64_t total, int64_t limit);

}  // namespace ft::train
