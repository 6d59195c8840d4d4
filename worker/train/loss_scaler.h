// Dynamic loss scaling for fp16 training (the logic of PyTorch's torch.cuda.amp.GradScaler).
// float16 gradients of small losses underflow to zero; multiplying the loss by a large scale keeps
// them representable. The trainer multiplies every micro-batch's loss of a window by the same
// scale(), unscales the accumulated gradients once before clipping, and skips the optimizer step
// when any gradient is inf/NaN (the scale was too large): the scale then backs off, and grows again
// after growth_interval clean steps. Include only from Torch translation units.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace ft::train {

struct LossScalerOptions {
  double initial_scale = 65536.0;  // 2^16, PyTorch's default
  double growth_factor = 2.0;
  double backoff_factor = 0.5;
  int64_t growth_interval = 2000;  // clean steps before the scale grows
};

class DynamicLossScaler {
 public:
  explicit DynamicLossScaler(LossScalerOptions options = {});

  double scale() const { return scale_; }
  // Clean steps since the scale last changed.
  int64_t growth_tracker() const { return growth_tracker_; }

  // Multiplies every defined gradient by 1/scale() in place and reports whether all of them are
  // finite afterwards. One host read per call (the decision to skip needs it, as in PyTorch).
  // Powers of two keep the unscaling exact.
  bool UnscaleAndCheckFinite(const std::vector<torch::Tensor>& parameters) const;

  // Call once per window after UnscaleAndCheckFinite: a non-finite window backs the scale off and
  // restarts the count; growth_interval finite windows in a row grow it.
  void Update(bool gradients_finite);

  // For checkpoints: [scale, growth_tracker] as a float64 tensor, and back.
  torch::Tensor StateTensor() const;
  void LoadStateTensor(const torch::Tensor& state);

 private:
  LossScalerOptions options_;
  double scale_;
  int64_t growth_tracker_ = 0;
};

}  // namespace ft::train
