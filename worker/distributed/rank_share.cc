#include "worker/distributed/rank_share.h"

#include <algorithm>

namespace ft::distributed {

std::vector<std::size_t> RankShare(std::size_t count, int rank, int world_size) {
  std::vector<std::size_t> share;
  for (std::size_t i = 0; i < count; ++i) {
    if (IsRanksShare(i, rank, world_size)) share.push_back(i);
  }
  return share;
}

train::Window DealWindow(const train::Window& window, int world_size, int64_t micro_batch_size) {
  if (world_size <= 1 || window.packed() || micro_batch_size < 1) return window;
  const auto world = static_cast<std::size_t>(world_size);
  const auto micro = static_cast<std::size_t>(micro_batch_size);
  std::vector<std::vector<std::size_t>> per_rank(world);
  std::size_t next = 0;
  for (const auto& micro_batch : window.micro_batches) {
    for (std::size_t example : micro_batch) per_rank[next++ % world].push_back(example);
  }
  // Rank 0 holds the most examples, so the ranks holding a k-th micro-batch are always a prefix
  // 0..m of the ranks, and position i of the interleaving is rank i % world's.
  train::Window dealt;
  for (std::size_t begin = 0; begin < per_rank[0].size(); begin += micro) {
    for (const std::vector<std::size_t>& examples : per_rank) {
      if (begin >= examples.size()) break;
      const std::size_t end = std::min(examples.size(), begin + micro);
      dealt.micro_batches.emplace_back(examples.begin() + static_cast<std::ptrdiff_t>(begin),
                                       examples.begin() + static_cast<std::ptrdiff_t>(end));
    }
  }
  return dealt;
}

}  // namespace ft::distributed
