// exp(x) in float32 written so that GCC vectorizes the loops that call it: Debian's LibTorch 1.13
// evaluates exp an order of magnitude slower than a vector polynomial (it seems to lack SLEEF's
// vector functions, docs/performance.md), and a call to libm per element keeps a loop scalar.
// Std-only; for the element-wise kernels under worker/ built with -O3 and AVX2.
#pragma once

#include <cstdint>
#include <cstring>

namespace ft::models {

// exp(x) for x in [-87, 88] to ~2 ulp (Cody-Waite reduction by ln 2, Cephes' degree-6
// polynomial, 2^n through the exponent bits), with no branch or library call. Outside the range
// the argument is clamped. Always inlined: GCC would not inline it into AVX2 loops, and a call per
// element keeps a loop from vectorizing.
__attribute__((always_inline)) inline float ClampedExp(float x) {
  x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
  const float scaled = x * 1.44269504088896341f;
  const int32_t n = static_cast<int32_t>(scaled + (scaled >= 0 ? 0.5f : -0.5f));
  const float nf = static_cast<float>(n);
  const float r = (x - nf * 0.693359375f) + nf * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float e = p * r * r + r + 1.0f;
  const int32_t bits = (n + 127) << 23;
  float two_to_n;
  std::memcpy(&two_to_n, &bits, sizeof(two_to_n));
  return e * two_to_n;
}

}  // namespace ft::models
