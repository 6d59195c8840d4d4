#include "common/fetch/numpy_permutation.h"

#include <random>
#include <utility>

namespace ft::fetch {
namespace {

// A uniform integer in [0, max], as numpy's legacy random_interval draws it (max < 2^32 here).
uint32_t RandomInterval(std::mt19937& generator, uint32_t max) {
  if (max == 0) return 0;
  uint32_t mask = max;
  for (int shift = 1; shift <= 16; shift <<= 1) mask |= mask >> shift;
  uint32_t value;
  do {
    value = static_cast<uint32_t>(generator()) & mask;
  } while (value > max);
  return value;
}

}  // namespace

std::vector<int64_t> NumpyLegacyPermutation(uint32_t seed, int64_t n) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
  // std::mt19937's seeding is MT19937's init_genrand, which numpy's legacy seeding uses too.
  std::mt19937 generator(seed);
  for (int64_t i = n - 1; i >= 1; --i) {
    const auto j = RandomInterval(generator, static_cast<uint32_t>(i));
    std::swap(order[static_cast<size_t>(i)], order[j]);
  }
  return order;
}

}  // namespace ft::fetch
