// numpy's legacy `np.random.RandomState(seed).permutation(n)`, bit for bit: the seed's IMDB split
// (pandas `df.sample(frac=1, random_state=1)`, which draws exactly this permutation) is defined
// by it, so reproducing the split without Python needs the same generator and shuffle.
#pragma once

#include <cstdint>
#include <vector>

namespace ft::fetch {

// MT19937 seeded as numpy's legacy seeding does for an integer seed (init_genrand), then a
// Fisher-Yates shuffle of 0..n-1 from the last element down, each index drawn by masked
// rejection sampling of 32-bit outputs (numpy's legacy random_interval).
std::vector<int64_t> NumpyLegacyPermutation(uint32_t seed, int64_t n);

}  // namespace ft::fetch
