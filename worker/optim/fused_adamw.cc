#include "worker/optim/fused_adamw.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <torch/utils.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>

namespace ft::optim {
namespace {

// torch::optim::AdamW's scalars for one parameter's step, rounded to float32 as its tensor
// operations round them.
struct StepScalars {
  float decay;            // 1 - lr * weight_decay
  float beta1;
  float one_minus_beta1;
  float beta2;
  float one_minus_beta2;
  float sqrt_bias_correction2;
  float eps;
  float negative_step_size;  // -lr / bias_correction1
};

StepScalars ScalarsFor(const torch::optim::AdamWOptions& options, int64_t step) {
  const double beta1 = std::get<0>(options.betas());
  const double beta2 = std::get<1>(options.betas());
  const double bias_correction1 = 1 - std::pow(beta1, static_cast<double>(step));
  const double bias_correction2 = 1 - std::pow(beta2, static_cast<double>(step));
  return StepScalars{static_cast<float>(1 - options.lr() * options.weight_decay()),
                     static_cast<float>(beta1),
                     static_cast<float>(1 - beta1),
                     static_cast<float>(beta2),
                     static_cast<float>(1 - beta2),
                     static_cast<float>(std::sqrt(bias_correction2)),
                     static_cast<float>(options.eps()),
                     static_cast<float>(-(options.lr() / bias_correction1))};
}

// One pass over [begin, end): each operand read once, each result written once. The expressions
// keep torch::optim::AdamW's order of operations (mul_ then add_ with alpha; addcmul_; sqrt,
// divide, add eps; addcdiv_). Built for AVX2 and for the baseline x86-64; this file is compiled
// with -O3 and without errno from sqrt (worker/CMakeLists.txt), which vectorizes the loop.
__attribute__((target_clones("avx2", "default"))) void UpdateRange(
    float* __restrict__ parameter, const float* __restrict__ gradient, float* __restrict__ exp_avg,
    float* __restrict__ exp_avg_sq, int64_t begin, int64_t end, const StepScalars& s) {
  for (int64_t i = begin; i < end; ++i) {
    const float g = gradient[i];
    const float m = exp_avg[i] * s.beta1 + s.one_minus_beta1 * g;
    const float v = exp_avg_sq[i] * s.beta2 + s.one_minus_beta2 * g * g;
    const float denominator = std::sqrt(v) / s.sqrt_bias_correction2 + s.eps;
    parameter[i] = parameter[i] * s.decay + s.negative_step_size * m / denominator;
    exp_avg[i] = m;
    exp_avg_sq[i] = v;
  }
}

bool IsContiguousCpuFloat(const torch::Tensor& tensor) {
  return tensor.defined() && tensor.device().is_cpu() && tensor.scalar_type() == torch::kFloat32 &&
         tensor.is_contiguous() && !tensor.is_sparse();
}

std::string StateKey(const torch::Tensor& parameter) {
  return c10::guts::to_string(parameter.unsafeGetTensorImpl());
}

// Elements per task: large enough that a small bias or norm weight runs inline, small enough that
// both threads share a large matrix.
constexpr int64_t kGrain = 1 << 15;

}  // namespace

bool FusedAdamW::AllFusable() const {
  for (const torch::optim::OptimizerParamGroup& group : param_groups_) {
    const auto& options = static_cast<const torch::optim::AdamWOptions&>(group.options());
    if (options.amsgrad()) return false;
    for (const torch::Tensor& parameter : group.params()) {
      if (!parameter.grad().defined()) continue;
      if (!IsContiguousCpuFloat(parameter) || !IsContiguousCpuFloat(parameter.grad())) {
        return false;
      }
      const auto found = state_.find(StateKey(parameter));
      if (found == state_.end()) continue;
      const auto& state = static_cast<const torch::optim::AdamWParamState&>(*found->second);
      if (!IsContiguousCpuFloat(state.exp_avg()) || !IsContiguousCpuFloat(state.exp_avg_sq())) {
        return false;
      }
    }
  }
  return true;
}

torch::optim::AdamWParamState& FusedAdamW::StateOf(const torch::Tensor& parameter) {
  std::unique_ptr<torch::optim::OptimizerParamState>& slot = state_[StateKey(parameter)];
  if (slot == nullptr) {
    auto state = std::make_unique<torch::optim::AdamWParamState>();
    state->step(0);
    state->exp_avg(torch::zeros_like(parameter, torch::MemoryFormat::Preserve));
    state->exp_avg_sq(torch::zeros_like(parameter, torch::MemoryFormat::Preserve));
    slot = std::move(state);
  }
  return static_cast<torch::optim::AdamWParamState&>(*slot);
}

torch::Tensor FusedAdamW::step(LossClosure closure) {
  RECORD_FUNCTION("ft::optimizer_step", std::vector<c10::IValue>());
  if (!AllFusable()) return torch::optim::AdamW::step(std::move(closure));
  torch::Tensor loss;
  if (closure != nullptr) {
    at::AutoGradMode enable_grad(true);
    loss = closure();
  }
  torch::NoGradGuard no_grad;
  for (torch::optim::OptimizerParamGroup& group : param_groups_) {
    const auto& options = static_cast<const torch::optim::AdamWOptions&>(group.options());
    for (torch::Tensor& parameter : group.params()) {
      if (!parameter.grad().defined()) continue;
      torch::optim::AdamWParamState& state = StateOf(parameter);
      state.step(state.step() + 1);
      const StepScalars scalars = ScalarsFor(options, state.step());
      float* values = parameter.data_ptr<float>();
      const float* gradient = parameter.grad().data_ptr<float>();
      float* exp_avg = state.exp_avg().data_ptr<float>();
      float* exp_avg_sq = state.exp_avg_sq().data_ptr<float>();
      at::parallel_for(0, parameter.numel(), kGrain, [&](int64_t begin, int64_t end) {
        UpdateRange(values, gradient, exp_avg, exp_avg_sq, begin, end, scalars);
      });
    }
  }
  return loss;
}

}  // namespace ft::optim
