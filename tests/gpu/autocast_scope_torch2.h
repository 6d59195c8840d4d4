// Device-check copy of worker/train/autocast_scope.h for LibTorch 2.x without the 1.x autocast
// calls (device-type based API). Swapped in on the GPU host only when needed.
#pragma once

#include <ATen/autocast_mode.h>
#include <c10/core/Device.h>

namespace ft::train {

class AutocastScope {
 public:
  AutocastScope(bool enabled, const c10::Device& device) : enabled_(enabled), type_(device.type()) {
    if (!enabled_) return;
    was_enabled_ = at::autocast::is_autocast_enabled(type_);
    at::autocast::set_autocast_dtype(type_, at::kBFloat16);
    at::autocast::set_autocast_enabled(type_, true);
    at::autocast::increment_nesting();
  }
  ~AutocastScope() {
    if (!enabled_) return;
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    at::autocast::set_autocast_enabled(type_, was_enabled_);
  }
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  const bool enabled_;
  const c10::DeviceType type_;
  bool was_enabled_ = false;
};

}  // namespace ft::train
