// ALiBi (Press et al., "Train Short, Test Long") head slopes as BLOOM defines them. Standard
// library only so that the slopes can be checked without LibTorch.
#pragma once

#include <cstdint>
#include <vector>

namespace ft::models {

// One slope per attention head. For a power-of-two head count n the slopes are the geometric
// sequence r^1..r^n with r = 2^(-8/n). Otherwise the first p = 2^floor(log2 n) heads use that
// sequence for p, and the remaining n - p heads take every other term (odd powers) of the
// sequence for 2p, as Hugging Face's build_alibi_tensor does.
std::vector<float> AlibiSlopes(int64_t num_heads);

}  // namespace ft::models
