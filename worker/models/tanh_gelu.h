// GeLU's tanh approximation (BLOOM's GeLU, GPT-2's gelu_new), forward and backward, as one
// vectorized pass each on the CPU. Debian's LibTorch 1.13 evaluates tanh and exp an order of
// magnitude slower than its vectorized erf (it seems to lack SLEEF): torch::gelu(x, "tanh") and
// its backward took ~2.5 and ~4.8 ms on a [1760, 1024] float32 tensor on 2 threads, against ~0.4
// ms for the erf GeLU (docs/performance.md). The same function, rewritten without tanh:
//   0.5 x (1 + tanh(u)) = x sigmoid(2u),  u = sqrt(2/pi) (x + 0.044715 x^3),
// with exp from a polynomial that compilers vectorize (within 2e-7 relative of torch::gelu).
// float32 and bfloat16 (computed in float32 and rounded once; bf16 autocast hands GeLU bfloat16,
// where torch::gelu took ~4.8 ms on that tensor). Other devices, dtypes and layouts, and CPUs
// without AVX2, take torch::gelu(x, "tanh").
#pragma once

#include <torch/types.h>

namespace ft::models {

torch::Tensor TanhGelu(const torch::Tensor& x);

}  // namespace ft::models
