// C = A B for the small products of one attention head (a few hundred rows and columns at most),
// in registers: blocks of 4 rows x 16 columns of C are accumulated over the inner dimension with
// GCC's vector extensions, so that each loaded row of B feeds 8 multiply-adds. Per head these
// products are too small for a BLAS call to pay (ATen's bmm calls OpenBLAS once per head and was
// the least efficient GEMM of a training step, docs/performance.md). Std-only; built for AVX2 and
// FMA, so only functions built for them too can call these (attention_kernel.cc).
#pragma once

#include <cstdint>
#include <cstring>

namespace ft::models {

// Eight floats, loaded and stored unaligned through memcpy.
using Float8 = float __attribute__((vector_size(32)));

// A [rows, inner] operand read element by element: row-major (a(r, k) = data[r * stride + k]),
// or the transpose of a row-major [inner, rows] array (a(r, k) = data[k * stride + r]), so that
// P^T dO and dS^T Q need no transposed copy.
struct LeftOperand {
  const float* data;
  int64_t stride;
  bool transposed;
  __attribute__((always_inline)) float At(int64_t r, int64_t k) const {
    return transposed ? data[k * stride + r] : data[r * stride + k];
  }
};

// A row-major [inner, columns] operand, columns a multiple of 8.
struct RightOperand {
  const float* data;
  int64_t stride;
};

// An output [rows, columns], row-major with a row stride, columns a multiple of 8.
struct Product {
  float* data;
  int64_t stride;
};

namespace small_matmul_internal {

__attribute__((always_inline, target("avx2,fma"))) inline Float8 Load8(const float* p) {
  Float8 v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

__attribute__((always_inline, target("avx2,fma"))) inline void Store8(float* p, Float8 v) {
  std::memcpy(p, &v, sizeof(v));
}

// kRows x (8 kVectors) block of C at (row, column), summed over `inner`.
template <int kRows, int kVectors>
__attribute__((always_inline, target("avx2,fma"))) inline void Block(const LeftOperand& a,
                                                                     const RightOperand& b,
                                                                     const Product& c, int64_t row,
                                                                     int64_t column,
                                                                     int64_t inner) {
  Float8 sum[kRows][kVectors] = {};
  for (int64_t k = 0; k < inner; ++k) {
    Float8 right[kVectors];
    for (int v = 0; v < kVectors; ++v) right[v] = Load8(b.data + k * b.stride + column + 8 * v);
    for (int r = 0; r < kRows; ++r) {
      const float left = a.At(row + r, k);
      for (int v = 0; v < kVectors; ++v) sum[r][v] += left * right[v];
    }
  }
  for (int r = 0; r < kRows; ++r) {
    for (int v = 0; v < kVectors; ++v)
      Store8(c.data + (row + r) * c.stride + column + 8 * v, sum[r][v]);
  }
}

template <int kRows>
__attribute__((always_inline, target("avx2,fma"))) inline void RowBlock(
    const LeftOperand& a, const RightOperand& b, const Product& c, int64_t row, int64_t columns,
    int64_t inner) {
  int64_t column = 0;
  for (; column + 16 <= columns; column += 16) Block<kRows, 2>(a, b, c, row, column, inner);
  if (column < columns) Block<kRows, 1>(a, b, c, row, column, inner);
}

}  // namespace small_matmul_internal

// c = a b, a [rows, inner], b [inner, columns], columns a multiple of 8.
__attribute__((always_inline, target("avx2,fma"))) inline void SmallMatmul(
    const LeftOperand& a, const RightOperand& b, const Product& c, int64_t rows, int64_t columns,
    int64_t inner) {
  using small_matmul_internal::RowBlock;
  int64_t row = 0;
  for (; row + 4 <= rows; row += 4) RowBlock<4>(a, b, c, row, columns, inner);
  switch (rows - row) {
    case 3:
      RowBlock<3>(a, b, c, row, columns, inner);
      break;
    case 2:
      RowBlock<2>(a, b, c, row, columns, inner);
      break;
    case 1:
      RowBlock<1>(a, b, c, row, columns, inner);
      break;
    default:
      break;
  }
}

}  // namespace ft::models
