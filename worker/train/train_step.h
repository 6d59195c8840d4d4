// One optimizer step's gradient work, fenced so that tests exercise exactly what the trainer runs:
// accumulate the gradient of a window of micro-batches, measure and clip its global norm.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "worker/data/micro_batch.h"
#include "worker/models/trainable_model.h"

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
  // 0-d, on the device: the window's summed loss (per example, or per target token for a
  // causal LM)
  torch::Tensor loss_sum;
  bool stopped = false;    // stop_requested() said yes before every micro-batch was done
};

// Sum over the batch of each example's cross-entropy, computed in float32, with label smoothing
// as torch.nn.CrossEntropyLoss(label_smoothing=) defines it: (1 - s) * CE(true class) +
// s * mean over all classes of -log p(class). label_smoothing 0 is the plain cross-entropy.
torch::Tensor SummedCrossEntropy(const torch::Tensor& logits, const torch::Tensor& labels,
                                 double label_smoothing = 0.0);

// A causal LM's loss: logits [batch, seq, vocab] at position t predict labels [batch, seq] at
// t + 1 (Hugging Face's shift); positions labelled kIgnoredLabel are not terms. The sum over
// the target tokens, in float32, smoothed as SummedCrossEntropy.
torch::Tensor SummedTokenCrossEntropy(const torch::Tensor& logits, const torch::Tensor& labels,
                                      double label_smoothing = 0.0);

// The task's summed loss of one micro-batch: SummedCrossEntropy or SummedTokenCrossEntropy.
torch::Tensor SummedLoss(models::ModelTask task, const torch::Tensor& logits,
                         const torch::Tensor& labels, double label_smoothing = 0.0);

// One micro-batch: forward, SummedLoss / loss_divisor (times precision.loss_scale), backward,
// the gradients added to .grad. Returns the micro-batch's summed loss, detached.
// before_backward (optional) runs between the loss and the backward.
torch::Tensor AccumulateMicroBatch(models::TrainableModelImpl& model, const MicroBatch& batch,
                                   int64_t loss_divisor, const StepPrecision& precision,
                                   double label_smoothing,
                                   const std::function<void()>& before_backward = nullptr);

// Forward and backward of each micro-batch (AccumulateMicroBatch); gradients are ADDED to the
// parameters' .grad (the caller zeroes them first). Each micro-batch contributes its summed loss
// (SummedLoss) / loss_divisor. With loss_divisor = the loss terms of the whole window (its
// examples; for a causal LM its target tokens, WindowLossTerms), the accumulated gradient equals
// the gradient of the mean loss of one batch holding all the window's examples, however the
// examples and tokens fall between micro-batches (including a shorter last window or
// micro-batch). Dividing each micro-batch by its own count instead is the bug this avoids: it
// weights a token of a short micro-batch more than one of a long one.
// stop_requested (optional) is polled before each micro-batch. The loss stays on the device: no
// host synchronization per micro-batch.
// label_smoothing goes to SummedCrossEntropy; loss_sum is then the smoothed loss.
// before_last_backward (optional) runs just before the last micro-batch's backward: a
// data-parallel rank arms its gradient all-reduce there (gradient_reducer.h).
WindowResult AccumulateWindow(
    models::TrainableModelImpl& model, const std::vector<MicroBatch>& micro_batches,
    int64_t loss_divisor, const std::function<bool()>& stop_requested = nullptr,
    const StepPrecision& precision = {}, double label_smoothing = 0.0,
    const std::function<void()>& before_last_backward = nullptr);

// The loss terms of a window: the sum of its micro-batches' targets.
int64_t WindowLossTerms(const std::vector<MicroBatch>& micro_batches);

// L2 norm over all gradients together (0-d tensor on the device).
torch::Tensor GlobalGradNorm(const std::vector<torch::Tensor>& parameters);

// Scales all gradients by min(1, max_norm / (norm + 1e-6)) without a host synchronization.
void ClipGradients(const std::vector<torch::Tensor>& parameters, double max_norm,
                   const torch::Tensor& norm);

}  // namespace ft::train
