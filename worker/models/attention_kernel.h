// The loops of the fused CPU attention (fused_attention.h) on float32 arrays, one (batch, head)
// pair at a time with everything it touches in cache, the pairs spread over LibTorch's threads.
// Std-only apart from ATen's parallel_for in the .cc; fused_attention.cc describes the tensors.
#pragma once

#include <cstdint>

namespace ft::models {

// A [batch, heads, rows, width] array whose last dimension is contiguous: element (b, h, r, c)
// at data[b * batch_stride + h * head_stride + r * row_stride + c]. A stride may be 0 (a
// broadcast bias or mask).
template <typename T>
struct HeadRows {
  T* data = nullptr;
  int64_t batch_stride = 0;
  int64_t head_stride = 0;
  int64_t row_stride = 0;
  T* Head(int64_t batch, int64_t head) const {
    return data + batch * batch_stride + head * head_stride;
  }
};

struct AttentionShape {
  int64_t batch = 0;
  int64_t heads = 0;
  int64_t queries = 0;
  int64_t keys = 0;
  int64_t dim = 0;  // a multiple of 8
  float scale = 1.0f;
  // The row length of the saved probabilities: keys rounded up to a multiple of 8, so that the
  // products over keys run in whole vectors.
  int64_t PaddedKeys() const { return (keys + 7) / 8 * 8; }
};

// How scores are masked; exactly one of the two is set.
// - bias: scores = scale q k^T + bias, and the gradient passes through every score (BLOOM's
//   baddbmm with ALiBi and -1e4 where blocked).
// - blocked (bool as bytes, nonzero = blocked): the score is the lowest float and passes no
//   gradient (masked_fill), so that a fully blocked row gives a uniform distribution.
struct ScoreMask {
  HeadRows<const float> bias;
  HeadRows<const uint8_t> blocked;
};

// Whether this CPU runs the kernels (AVX2 and FMA).
bool AttentionKernelSupported();

// output (b, q, h * dim + d) = softmax(scores) value, with the probabilities kept for backward
// ([batch, heads, queries, PaddedKeys()], contiguous).
void AttentionForward(const AttentionShape& shape, const HeadRows<const float>& query,
                      const HeadRows<const float>& key, const HeadRows<const float>& value,
                      const ScoreMask& mask, float* probabilities, const HeadRows<float>& output);

struct AttentionGradients {
  HeadRows<float> query;
  HeadRows<float> key;
  HeadRows<float> value;
};

// dV = P^T dO, dP = dO V^T, dS = P (dP - rowsum(dP P)), dQ = scale dS K, dK = scale dS^T Q.
void AttentionBackward(const AttentionShape& shape, const HeadRows<const float>& grad_output,
                       const float* probabilities, const HeadRows<const float>& query,
                       const HeadRows<const float>& key, const HeadRows<const float>& value,
                       const ScoreMask& mask, const AttentionGradients& gradients);

}  // namespace ft::models
