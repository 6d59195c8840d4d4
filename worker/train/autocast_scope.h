// Autocast for a scope: matrix products run in bfloat16 (CPU or CUDA) or float16 (CUDA only) while
// parameters, gradients and the optimizer stay in float32. Include only from Torch translation
// units.
#pragma once

#include <ATen/autocast_mode.h>
#include <c10/core/Device.h>

namespace ft::train {

class AutocastScope {
 public:
  // Does nothing unless `enabled`.
  AutocastScope(bool enabled, const c10::Device& device, c10::ScalarType dtype = at::kBFloat16)
      : enabled_(enabled), cuda_(device.is_cuda()) {
    if (!enabled_) return;
    if (cuda_) {
      was_enabled_ = at::autocast::is_enabled();
      at::autocast::set_autocast_gpu_dtype(dtype);
      at::autocast::set_enabled(true);
    } else {
      was_enabled_ = at::autocast::is_cpu_enabled();
      at::autocast::set_autocast_cpu_dtype(dtype);
      at::autocast::set_cpu_enabled(true);
    }
    at::autocast::increment_nesting();
  }
  ~AutocastScope() {
    if (!enabled_) return;
    // The cast weights are cached for the scope; drop them when the outermost scope ends.
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    if (cuda_) {
      at::autocast::set_enabled(was_enabled_);
    } else {
      at::autocast::set_cpu_enabled(was_enabled_);
    }
  }
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  const bool enabled_;
  const bool cuda_;
  bool was_enabled_ = false;
};

}  // namespace ft::train
