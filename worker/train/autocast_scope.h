// Autocast for a scope: matrix products run in bfloat16 (CPU or CUDA) or float16 (CUDA only) while
// parameters, gradients and the optimizer stay in float32. Include only from Torch translation
// units.
#pragma once

#include <ATen/autocast_mode.h>
#include <c10/core/Device.h>

#include "worker/train/autocast_state.h"

namespace ft::train {

class AutocastScope {
 public:
  // Does nothing unless `enabled`.
  AutocastScope(bool enabled, const c10::Device& device, c10::ScalarType dtype = at::kBFloat16)
      : enabled_(enabled), type_(device.type()) {
    if (!enabled_) return;
    previous_ = GetAutocast(type_);
    SetAutocast(type_, {true, dtype});
    at::autocast::increment_nesting();
  }
  ~AutocastScope() {
    if (!enabled_) return;
    // The cast weights are cached for the scope; drop them when the outermost scope ends.
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    SetAutocast(type_, previous_);
  }
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  const bool enabled_;
  const c10::DeviceType type_;
  AutocastState previous_;
};

}  // namespace ft::train
