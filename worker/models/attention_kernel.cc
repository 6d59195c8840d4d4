#include "worker/models/attention_kernel.h"

#include <ATen/Parallel.h>

#include <limits>
#include <vector>

#include "worker/models/small_matmul.h"
#include "worker/models/vector_exp.h"

namespace ft::models {
namespace {

constexpr float kLowest = std::numeric_limits<float>::lowest();

// exp(x) for x <= 0, exactly 0 where it is below float32's normal range: a blocked score's
// probability stays an exact 0 (as in LibTorch's softmax) rather than ~1e-38, whose products in
// backward would be denormal and slow.
__attribute__((always_inline)) inline float ExpOrZero(float x) {
  return x < -87.0f ? 0.0f : ClampedExp(x);
}

__attribute__((target("avx2,fma"))) float RowMax(const float* row, int64_t padded) {
  Float8 best = small_matmul_internal::Load8(row);
  for (int64_t j = 8; j < padded; j += 8) {
    const Float8 x = small_matmul_internal::Load8(row + j);
    best = best > x ? best : x;
  }
  float result = best[0];
  for (int lane = 1; lane < 8; ++lane) result = best[lane] > result ? best[lane] : result;
  return result;
}

// sum_j a[j] b[j] over a padded row, in eight running sums (one float sum would wait on each
// addition in turn).
__attribute__((target("avx2,fma"))) float RowDot(const float* a, const float* b, int64_t padded) {
  Float8 sum = {};
  for (int64_t j = 0; j < padded; j += 8) {
    sum += small_matmul_internal::Load8(a + j) * small_matmul_internal::Load8(b + j);
  }
  float result = 0.0f;
  for (int lane = 0; lane < 8; ++lane) result += sum[lane];
  return result;
}

// The scores of one query row (scale q k^T already in `row`) turned into probabilities in place;
// the padding columns [keys, padded) end as exact zeros.
__attribute__((target("avx2,fma"))) void SoftmaxRow(float* row, int64_t keys, int64_t padded,
                                                    float scale, const float* bias,
                                                    const uint8_t* blocked) {
  if (bias != nullptr) {
    for (int64_t j = 0; j < keys; ++j) row[j] = row[j] * scale + bias[j];
  } else {
    for (int64_t j = 0; j < keys; ++j) row[j] = blocked[j] != 0 ? kLowest : row[j] * scale;
  }
  for (int64_t j = keys; j < padded; ++j) row[j] = kLowest;
  // Max-subtracted: a fully blocked row (every score kLowest) gives exp(0) = 1 everywhere, a
  // uniform distribution, as LibTorch's softmax does.
  const float max = RowMax(row, padded);
  Float8 sums = {};
  for (int64_t j = 0; j < padded; ++j) row[j] = ExpOrZero(row[j] - max);
  for (int64_t j = keys; j < padded; ++j) row[j] = 0.0f;
  for (int64_t j = 0; j < padded; j += 8) sums += small_matmul_internal::Load8(row + j);
  float sum = 0.0f;
  for (int lane = 0; lane < 8; ++lane) sum += sums[lane];
  const float inverse = 1.0f / sum;
  for (int64_t j = 0; j < padded; ++j) row[j] *= inverse;
}

// out [dim, padded] = rows [count, dim]^T, the columns from `count` on zero.
void TransposeInto(const float* rows, int64_t row_stride, int64_t count, int64_t dim,
                   int64_t padded, float* out) {
  for (int64_t d = 0; d < dim; ++d) {
    float* column = out + d * padded;
    for (int64_t j = 0; j < count; ++j) column[j] = rows[j * row_stride + d];
    for (int64_t j = count; j < padded; ++j) column[j] = 0.0f;
  }
}

// rows [count, dim] with a row stride copied into `out` without one. A head's rows lie a whole
// fused projection apart (3 x hidden floats in BLOOM): read in place as the right operand of a
// product, a power-of-two multiple of 1 KiB apart, they fall into a few sets of the L1 cache and
// evict each other.
const float* PackRows(const float* rows, int64_t row_stride, int64_t count, int64_t dim,
                      std::vector<float>& out) {
  for (int64_t j = 0; j < count; ++j) {
    for (int64_t d = 0; d < dim; ++d) out[j * dim + d] = rows[j * row_stride + d];
  }
  return out.data();
}

// The per-thread scratch of one head: a transposed key or value [dim, padded], packed rows
// [rows, dim] of the right operands, and in backward dP / dS [queries, padded].
struct Scratch {
  std::vector<float> transposed;
  std::vector<float> packed_keys;
  std::vector<float> packed_queries;
  std::vector<float> packed_grad_output;
  std::vector<float> scores;
};

// Runs head_work(batch, head, scratch) for every (batch, head) pair over LibTorch's threads.
template <typename HeadWork>
void ForEachHead(const AttentionShape& shape, bool backward, const HeadWork& head_work) {
  at::parallel_for(0, shape.batch * shape.heads, 1, [&](int64_t begin, int64_t end) {
    Scratch scratch;
    scratch.transposed.resize(shape.dim * shape.PaddedKeys());
    scratch.packed_keys.resize(shape.keys * shape.dim);
    if (backward) {
      scratch.packed_queries.resize(shape.queries * shape.dim);
      scratch.packed_grad_output.resize(shape.queries * shape.dim);
      scratch.scores.resize(shape.queries * shape.PaddedKeys());
    }
    for (int64_t pair = begin; pair < end; ++pair) {
      head_work(pair / shape.heads, pair % shape.heads, scratch);
    }
  });
}

const float* BiasRow(const ScoreMask& mask, int64_t batch, int64_t head, int64_t row) {
  if (mask.bias.data == nullptr) return nullptr;
  return mask.bias.Head(batch, head) + row * mask.bias.row_stride;
}

const uint8_t* BlockedRow(const ScoreMask& mask, int64_t batch, int64_t head, int64_t row) {
  if (mask.blocked.data == nullptr) return nullptr;
  return mask.blocked.Head(batch, head) + row * mask.blocked.row_stride;
}

__attribute__((target("avx2,fma"))) void ForwardHead(
    const AttentionShape& shape, int64_t batch, int64_t head, const HeadRows<const float>& query,
    const HeadRows<const float>& key, const HeadRows<const float>& value, const ScoreMask& mask,
    float* probabilities, const HeadRows<float>& output, Scratch& scratch) {
  const int64_t padded = shape.PaddedKeys();
  float* key_t = scratch.transposed.data();
  TransposeInto(key.Head(batch, head), key.row_stride, shape.keys, shape.dim, padded, key_t);
  SmallMatmul({query.Head(batch, head), query.row_stride, false}, {key_t, padded},
              {probabilities, padded}, shape.queries, padded, shape.dim);
  for (int64_t i = 0; i < shape.queries; ++i) {
    SoftmaxRow(probabilities + i * padded, shape.keys, padded, shape.scale,
               BiasRow(mask, batch, head, i), BlockedRow(mask, batch, head, i));
  }
  const float* values = PackRows(value.Head(batch, head), value.row_stride, shape.keys, shape.dim,
                                 scratch.packed_keys);
  SmallMatmul({probabilities, padded, false}, {values, shape.dim},
              {output.Head(batch, head), output.row_stride}, shape.queries, shape.dim, shape.keys);
}

__attribute__((target("avx2,fma"))) void BackwardHead(
    const AttentionShape& shape, int64_t batch, int64_t head,
    const HeadRows<const float>& grad_output, const float* probabilities,
    const HeadRows<const float>& query, const HeadRows<const float>& key,
    const HeadRows<const float>& value, const ScoreMask& mask, const AttentionGradients& gradients,
    Scratch& scratch) {
  const int64_t padded = shape.PaddedKeys();
  const float* grad_out = grad_output.Head(batch, head);
  float* value_t = scratch.transposed.data();
  float* grad_scores = scratch.scores.data();
  TransposeInto(value.Head(batch, head), value.row_stride, shape.keys, shape.dim, padded, value_t);
  // dP = dO V^T (its padding columns are 0: value_t's are).
  SmallMatmul({grad_out, grad_output.row_stride, false}, {value_t, padded}, {grad_scores, padded},
              shape.queries, padded, shape.dim);
  for (int64_t i = 0; i < shape.queries; ++i) {
    const float* p = probabilities + i * padded;
    float* ds = grad_scores + i * padded;
    const float expected = RowDot(p, ds, padded);
    for (int64_t j = 0; j < padded; ++j) ds[j] = shape.scale * p[j] * (ds[j] - expected);
    const uint8_t* blocked = BlockedRow(mask, batch, head, i);
    if (blocked != nullptr) {
      for (int64_t j = 0; j < shape.keys; ++j) ds[j] = blocked[j] != 0 ? 0.0f : ds[j];
    }
  }
  const int64_t dim = shape.dim;
  const float* grad_out_rows =
      PackRows(grad_out, grad_output.row_stride, shape.queries, dim, scratch.packed_grad_output);
  SmallMatmul({probabilities, padded, true}, {grad_out_rows, dim},
              {gradients.value.Head(batch, head), gradients.value.row_stride}, shape.keys, dim,
              shape.queries);
  const float* keys =
      PackRows(key.Head(batch, head), key.row_stride, shape.keys, dim, scratch.packed_keys);
  SmallMatmul({grad_scores, padded, false}, {keys, dim},
              {gradients.query.Head(batch, head), gradients.query.row_stride}, shape.queries, dim,
              shape.keys);
  const float* queries = PackRows(query.Head(batch, head), query.row_stride, shape.queries, dim,
                                  scratch.packed_queries);
  SmallMatmul({grad_scores, padded, true}, {queries, dim},
              {gradients.key.Head(batch, head), gradients.key.row_stride}, shape.keys, dim,
              shape.queries);
}

// Where a head's [queries, padded] probabilities start.
int64_t ProbabilitiesOffset(const AttentionShape& shape, int64_t batch, int64_t head) {
  return (batch * shape.heads + head) * shape.queries * shape.PaddedKeys();
}

}  // namespace

bool AttentionKernelSupported() {
  static const bool supported = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return supported;
}

void AttentionForward(const AttentionShape& shape, const HeadRows<const float>& query,
                      const HeadRows<const float>& key, const HeadRows<const float>& value,
                      const ScoreMask& mask, float* probabilities, const HeadRows<float>& output) {
  ForEachHead(shape, /*backward=*/false, [&](int64_t batch, int64_t head, Scratch& scratch) {
    ForwardHead(shape, batch, head, query, key, value, mask,
                probabilities + ProbabilitiesOffset(shape, batch, head), output, scratch);
  });
}

void AttentionBackward(const AttentionShape& shape, const HeadRows<const float>& grad_output,
                       const float* probabilities, const HeadRows<const float>& query,
                       const HeadRows<const float>& key, const HeadRows<const float>& value,
                       const ScoreMask& mask, const AttentionGradients& gradients) {
  ForEachHead(shape, /*backward=*/true, [&](int64_t batch, int64_t head, Scratch& scratch) {
    BackwardHead(shape, batch, head, grad_output,
                 probabilities + ProbabilitiesOffset(shape, batch, head), query, key, value, mask,
                 gradients, scratch);
  });
}

}  // namespace ft::models
