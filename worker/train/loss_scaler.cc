#include "worker/train/loss_scaler.h"

#include <ATen/ops/_amp_foreach_non_finite_check_and_unscale.h>

#include <stdexcept>
#include <string>

namespace ft::train {

DynamicLossScaler::DynamicLossScaler(LossScalerOptions options)
    : options_(options), scale_(options.initial_scale) {
  if (!(options.initial_scale > 0) || !(options.growth_factor >= 1) ||
      !(options.backoff_factor > 0 && options.backoff_factor < 1) || options.growth_interval < 1) {
    throw std::invalid_argument("loss scaler: invalid options");
  }
}

bool DynamicLossScaler::UnscaleAndCheckFinite(const std::vector<torch::Tensor>& parameters) const {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> gradients;
  for (const torch::Tensor& parameter : parameters) {
    if (parameter.grad().defined()) gradients.push_back(parameter.grad());
  }
  if (gradients.empty()) return true;
  const torch::Device device = gradients.front().device();
  // PyTorch rounds 1/scale to float32 the same way; exact for powers of two.
  const auto inv_scale = static_cast<float>(1.0 / scale_);
  if (device.is_cuda()) {
    // The fused kernel exists for CUDA only (LibTorch 1.13 has no CPU kernel for it).
    torch::Tensor found_inf = torch::zeros({1}, torch::TensorOptions().device(device));
    torch::Tensor inv = torch::full({1}, inv_scale, torch::TensorOptions().device(device));
    at::_amp_foreach_non_finite_check_and_unscale_(gradients, found_inf, inv);
    return found_inf.item<float>() == 0.0f;
  }
  torch::Tensor all_finite = torch::ones({}, torch::TensorOptions().dtype(torch::kBool));
  for (torch::Tensor& gradient : gradients) {
    gradient.mul_(inv_scale);
    all_finite.logical_and_(torch::isfinite(gradient).all());
  }
  return all_finite.item<bool>();
}

void DynamicLossScaler::Update(bool gradients_finite) {
  if (!gradients_finite) {
    scale_ *= options_.backoff_factor;
    growth_tracker_ = 0;
    return;
  }
  if (++growth_tracker_ == options_.growth_interval) {
    scale_ *= options_.growth_factor;
    growth_tracker_ = 0;
  }
}

torch::Tensor DynamicLossScaler::StateTensor() const {
  return torch::tensor({scale_, static_cast<double>(growth_tracker_)},
                       torch::TensorOptions().dtype(torch::kFloat64));
}

void DynamicLossScaler::LoadStateTensor(const torch::Tensor& state) {
  if (state.numel() != 2 || state.scalar_type() != torch::kFloat64) {
    throw std::runtime_error("loss scaler state: expected 2 float64 values, got " +
                             std::to_string(state.numel()));
  }
  const torch::Tensor cpu = state.to(torch::kCPU);
  scale_ = cpu[0].item<double>();
  growth_tracker_ = static_cast<int64_t>(cpu[1].item<double>());
}

}  // namespace ft::train
