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

inline void SynchronizeDevice(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

}  // namespace ft::train::compat
