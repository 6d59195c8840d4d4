// Which part of the shared work a rank does. Every rank forms the same windows (epoch_plan.h);
// a window's micro-batches, sorted longest first, are dealt out in turn (micro-batch i to rank
// i % world_size), so that each rank gets a similar amount of tokens. Evaluation batches are
// dealt out the same way. Standard library only.
#pragma once

#include <cstddef>
#include <vector>

namespace ft::distributed {

// The indices of the `count` items that `rank` of `world_size` takes (possibly none).
std::vector<std::size_t> RankShare(std::size_t count, int rank, int world_size);

// Whether item `index` is `rank`'s.
inline bool IsRanksShare(std::size_t index, int rank, int world_size) {
  return world_size <= 1 || index % static_cast<std::size_t>(world_size) ==
                                static_cast<std::size_t>(rank);
}

}  // namespace ft::distributed
