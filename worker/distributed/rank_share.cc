#include "worker/distributed/rank_share.h"

namespace ft::distributed {

std::vector<std::size_t> RankShare(std::size_t count, int rank, int world_size) {
  std::vector<std::size_t> share;
  for (std::size_t i = 0; i < count; ++i) {
    if (IsRanksShare(i, rank, world_size)) share.push_back(i);
  }
  return share;
}

}  // namespace ft::distributed
