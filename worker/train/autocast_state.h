// Reading and setting the autocast state of one device type, the same way on LibTorch 1.13
// (Debian, CPU) and 2.x (GPU hosts), whose APIs differ: 2.4 replaced the per-device functions
// (is_cpu_enabled, set_autocast_gpu_dtype, ...) by ones taking a device type. Include only from
// Torch translation units.
#pragma once

#include <ATen/autocast_mode.h>
#include <c10/core/DeviceType.h>
#include <c10/core/ScalarType.h>
#include <torch/version.h>

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define FT_AUTOCAST_DEVICE_TYPE_API 1
#endif

namespace ft::train {

struct AutocastState {
  bool enabled = false;
  c10::ScalarType dtype = c10::ScalarType::BFloat16;
};

// CPU and CUDA only; autocast on other devices is not used here.
inline AutocastState GetAutocast(c10::DeviceType type) {
#ifdef FT_AUTOCAST_DEVICE_TYPE_API
  return {at::autocast::is_autocast_enabled(type), at::autocast::get_autocast_dtype(type)};
#else
  if (type == c10::DeviceType::CUDA) {
    return {at::autocast::is_enabled(), at::autocast::get_autocast_gpu_dtype()};
  }
  return {at::autocast::is_cpu_enabled(), at::autocast::get_autocast_cpu_dtype()};
#endif
}

inline void SetAutocast(c10::DeviceType type, const AutocastState& state) {
#ifdef FT_AUTOCAST_DEVICE_TYPE_API
  at::autocast::set_autocast_dtype(type, state.dtype);
  at::autocast::set_autocast_enabled(type, state.enabled);
#else
  if (type == c10::DeviceType::CUDA) {
    at::autocast::set_autocast_gpu_dtype(state.dtype);
    at::autocast::set_enabled(state.enabled);
  } else {
    at::autocast::set_autocast_cpu_dtype(state.dtype);
    at::autocast::set_cpu_enabled(state.enabled);
  }
#endif
}

}  // namespace ft::train
