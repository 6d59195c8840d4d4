// Which part of the shared work a rank does. Every rank forms the same windows (epoch_plan.h).
// A window's micro-batch i belongs to rank i % world_size; DealWindow arranges an unpacked
// window's examples so that this gives each rank a similar amount of tokens. Evaluation batches
// are dealt out by the same rule. Standard library only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "worker/data/example_sampler.h"

namespace ft::distributed {

// The indices of the `count` items that `rank` of `world_size` takes (possibly none).
std::vector<std::size_t> RankShare(std::size_t count, int rank, int world_size);

// Whether item `index` is `rank`'s.
inline bool IsRanksShare(std::size_t index, int rank, int world_size) {
  return world_size <= 1 || index % static_cast<std::size_t>(world_size) ==
                                static_cast<std::size_t>(rank);
}

// The same examples re-cut for a gang. The window's examples (sorted longest first) are dealt in
// turn, example e to rank e % world_size; each rank cuts its examples into micro-batches of
// micro_batch_size; the micro-batches are then interleaved (rank 0's first, rank 1's first, ...,
// rank 0's second, ...) so that micro-batch i is rank i % world_size's. Dealing whole
// micro-batches instead would give rank 0 the longest one of every window. The window's
// gradient is a sum over its examples (train_step.h), so the re-cut changes no result beyond
// rounding. A packed window, or world_size 1, is returned as it is.
train::Window DealWindow(const train::Window& window, int world_size, int64_t micro_batch_size);

}  // namespace ft::distributed
