#include "worker/models/tanh_gelu.h"

#include <ATen/Parallel.h>
#include <torch/autograd.h>

#include <cstdint>
#include <cstring>

#include "worker/models/vector_exp.h"

namespace ft::models {
namespace {

constexpr float kSqrtTwoOverPi = 0.7978845608028654f;
constexpr float kCubic = 0.044715f;

// exp(-2u) for u = sqrt(2/pi) (x + 0.044715 x^3): sigmoid(2u) = 0.5 (1 + tanh(u)) = 1 / (1 + it),
// and 1 - sigmoid(2u) = it / (1 + it), without the cancellation of 1 - sigmoid. Where
// ClampedExp clamps, the sigmoid is exactly 0 or 1 in float32 anyway.
__attribute__((always_inline)) inline float ExpMinusTwoU(float x) {
  return ClampedExp(-2.0f * kSqrtTwoOverPi * x * (1.0f + kCubic * x * x));
}

// Elements as float32 (bfloat16 widened exactly, and rounded to nearest even on the way out, as
// LibTorch rounds): the loops below run on either.
__attribute__((always_inline)) inline float Load(const float* p, int64_t i) { return p[i]; }
__attribute__((always_inline)) inline float Load(const uint16_t* p, int64_t i) {
  const uint32_t bits = static_cast<uint32_t>(p[i]) << 16;
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}
__attribute__((always_inline)) inline void Store(float* p, int64_t i, float value) {
  p[i] = value;
}
__attribute__((always_inline)) inline void Store(uint16_t* p, int64_t i, float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  bits += 0x7FFFu + ((bits >> 16) & 1u);
  p[i] = static_cast<uint16_t>(bits >> 16);
}

// Both loops are built for AVX2, which -O3 vectorizes them for (worker/CMakeLists.txt); a CPU
// without it takes torch::gelu (the baseline x86-64 build of these loops ran slower than it).
template <typename T>
__attribute__((target("avx2"))) void ForwardRange(const T* __restrict__ x, T* __restrict__ y,
                                                  int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i) {
    const float v = Load(x, i);
    Store(y, i, v / (1.0f + ExpMinusTwoU(v)));
  }
}

// d/dx x s(x) = s + x s (1 - s) 2 du/dx, s = sigmoid(2u), du/dx = sqrt(2/pi) (1 + 3 0.044715 x^2).
template <typename T>
__attribute__((target("avx2"))) void BackwardRange(const T* __restrict__ grad,
                                                   const T* __restrict__ x, T* __restrict__ out,
                                                   int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i) {
    const float v = Load(x, i);
    const float e = ExpMinusTwoU(v);
    const float s = 1.0f / (1.0f + e);
    const float du = kSqrtTwoOverPi * (1.0f + 3.0f * kCubic * v * v);
    Store(out, i, Load(grad, i) * (s + v * s * (e * s) * 2.0f * du));
  }
}

// Elements per task: one task for a small tensor, both threads on a layer's activations.
constexpr int64_t kGrain = 1 << 14;

// float32 or bfloat16 storage, as the loops read and write it.
template <typename T>
T* Elements(const torch::Tensor& t) {
  return reinterpret_cast<T*>(t.data_ptr());
}

template <typename T>
torch::Tensor Forward(const torch::Tensor& x) {
  torch::Tensor y = torch::empty_like(x);
  const T* in = Elements<T>(x);
  T* out = Elements<T>(y);
  at::parallel_for(0, x.numel(), kGrain,
                   [&](int64_t begin, int64_t end) { ForwardRange(in, out, begin, end); });
  return y;
}

template <typename T>
torch::Tensor Backward(const torch::Tensor& grad, const torch::Tensor& x) {
  torch::Tensor result = torch::empty_like(x);
  const T* g = Elements<T>(grad);
  const T* in = Elements<T>(x);
  T* out = Elements<T>(result);
  at::parallel_for(0, x.numel(), kGrain,
                   [&](int64_t begin, int64_t end) { BackwardRange(g, in, out, begin, end); });
  return result;
}

class TanhGeluFunction : public torch::autograd::Function<TanhGeluFunction> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext* context, const torch::Tensor& x) {
    context->save_for_backward({x});
    return x.scalar_type() == torch::kBFloat16 ? Forward<uint16_t>(x) : Forward<float>(x);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* context,
                                                 torch::autograd::variable_list grads) {
    const torch::Tensor x = context->get_saved_variables()[0];
    const torch::Tensor grad = grads[0].to(x.scalar_type()).contiguous();
    return {x.scalar_type() == torch::kBFloat16 ? Backward<uint16_t>(grad, x)
                                                : Backward<float>(grad, x)};
  }
};

bool Fusable(const torch::Tensor& x) {
  static const bool has_avx2 = __builtin_cpu_supports("avx2");
  return has_avx2 && x.device().is_cpu() &&
         (x.scalar_type() == torch::kFloat32 || x.scalar_type() == torch::kBFloat16) &&
         x.is_contiguous() && x.layout() == torch::kStrided;
}

}  // namespace

torch::Tensor TanhGelu(const torch::Tensor& x) {
  if (!Fusable(x)) return torch::gelu(x, "tanh");
  return TanhGeluFunction::apply(x);
}

}  // namespace ft::models
