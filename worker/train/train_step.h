// One optimizer step's gradient work, fenced so that tests exercise exactly what the trainer runs:
// accumulate the gradient of a window of micro-batches, measure and clip its global norm.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "worker/data/micro_batch.h"
#include "worker/models/sequence_classifier.h"

namespace ft::train {

// How a window's forward and backward run.
struct StepPrecision {
  bool autocast = false;  // forward under autocast to autocast_dtype (the loss is taken in float32)
  c10::ScalarType autocast_dtype = torch::kBFloat16;
  // Every micro-batch's loss is multiplied by it before backward (fp16 loss scaling, see
  // loss_scaler.h); the gradients then hold loss_scale times the true gradient.
  double loss_scale = 1.0;
};

struct WindowResult {
  torch::Tensor loss_sum;  // 0-d, on the device: summed per-example loss of the window
  bool stopped = false;    // stop_requested() said yes before every micro-batch was done
};

// Sum over the batch of each example's cross-entropy, computed in float32, with label smoothing
// as torch.nn.CrossEntropyLoss(label_smoothing=) defines it: (1 - s) * CE(true class) +
// s * mean over all classes of -log p(class). label_smoothing 0 is the plain cross-entropy.
torch::Tensor SummedCrossEntropy(const torch::Tensor& logits, const torch::Tensor& labels,
                                 double label_smoothing = 0.0);

// Forward and backward of each micro-batch; gradients are ADDED to the parameters' .grad (the
// caller zeroes them first). Each micro-batch contributes sum(per-example cross-entropy) /
// loss_divisor. With loss_divisor = number of examples in the whole window, the accumulated
// gradient equals the gradient of the mean loss of one batch holding all the window's examples,
// whatever the micro-batch sizes (including a shorter last window or micro-batch).
// stop_requested (optional) is polled before each micro-batch. The loss stays on the device: no
// host synchronization per micro-batch.
// label_smoothing goes to SummedCrossEntropy; loss_sum is then the smoothed loss.
WindowResult AccumulateWindow(models::SequenceClassifierImpl& model,
                              const std::vector<MicroBatch>& micro_batches, int64_t loss_divisor,
                              const std::function<bool()>& stop_requested = nullptr,
                              const StepPrecision& precision = {}, double label_smoothing = 0.0);

// L2 norm over all gradients together (0-d tensor on the device).
torch::Tensor GlobalGradNorm(const std::vector<torch::Tensor>& parameters);

// Scales all gradients by min(1, max_norm / (norm + 1e-6)) without a host synchronization.
void ClipGradients(const std::vector<torch::Tensor>& parameters, double max_norm,
                   const torch::Tensor& norm);

}  // namespace ft::train
