// The few places where LibTorch's C++ API differs between versions (Debian's 1.13 CPU build here,
// 2.x with CUDA on GPU hosts). Everything version-dependent goes through this header.
#pragma once

#include <c10/util/Exception.h>
#include <torch/cuda.h>
#include <torch/optim/optimizer.h>
#include <torch/version.h>

#include <string>

namespace ft::train::compat {

inline void SetLearningRate(torch::optim::Optimizer& optimizer, double learning_rate) {
  // OptimizerOptions::set_lr exists since 1.13; older releases would need a cast per optimizer.
  for (auto& group : optimizer.param_groups()) group.options().set_lr(learning_rate);
}

// c10::Error::what() carries a C++ backtrace in some builds; users get the message alone.
inline std::string ErrorMessage(const c10::Error& error) { return error.what_without_backtrace(); }

inline std::string LibTorchVersion() { return TORCH_VERSION; }

// LibTorch 2.0 made Optimizer::zero_grad() set the gradients to None by default; 1.x zeroes them
// in place (a parameter that had a gradient keeps a defined one).
inline constexpr bool kZeroGradSetsToNone = TORCH_VERSION_MAJOR >= 2;

inline void SynchronizeDevice(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

}  // namespace ft::train::compat
