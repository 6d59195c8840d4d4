#include "worker/train/train_step.h"

#include <ATen/record_function.h>
#include <torch/nn/functional/loss.h>
#include <torch/utils.h>

#include "worker/train/autocast_scope.h"

namespace ft::train {
namespace {

// Reduced precision (bf16/fp16 autocast) is lifted to float32; float64 stays float64.
torch::Tensor AtLeastFloat32(const torch::Tensor& logits) {
  return logits.to(torch::promote_types(logits.scalar_type(), torch::kFloat32));
}

}  // namespace

torch::Tensor SummedCrossEntropy(const torch::Tensor& logits, const torch::Tensor& labels,
                                 double label_smoothing) {
  namespace F = torch::nn::functional;
  return F::cross_entropy(
      AtLeastFloat32(logits), labels,
      F::CrossEntropyFuncOptions().reduction(torch::kSum).label_smoothing(label_smoothing));
}

torch::Tensor SummedTokenCrossEntropy(const torch::Tensor& logits, const torch::Tensor& labels,
                                      double label_smoothing) {
  namespace F = torch::nn::functional;
  const int64_t vocab = logits.size(-1);
  const torch::Tensor predicted = AtLeastFloat32(logits.narrow(1, 0, logits.size(1) - 1));
  const torch::Tensor targets = labels.narrow(1, 1, labels.size(1) - 1);
  return F::cross_entropy(predicted.reshape({-1, vocab}), targets.reshape({-1}),
                          F::CrossEntropyFuncOptions()
                              .reduction(torch::kSum)
                              .ignore_index(kIgnoredLabel)
                              .label_smoothing(label_smoothing));
}

torch::Tensor SummedLoss(models::ModelTask task, const torch::Tensor& logits,
                         const torch::Tensor& labels, double label_smoothing) {
  if (task == models::ModelTask::kCausalLm) {
    return SummedTokenCrossEntropy(logits, labels, label_smoothing);
  }
  return SummedCrossEntropy(logits, labels, label_smoothing);
}

int64_t WindowLossTerms(const std::vector<MicroBatch>& micro_batches) {
  int64_t terms = 0;
  for (const MicroBatch& batch : micro_batches) terms += batch.targets;
  return terms;
}

torch::Tensor AccumulateMicroBatch(models::TrainableModelImpl& model, const MicroBatch& batch,
                                   int64_t loss_divisor, const StepPrecision& precision,
                                   double label_smoothing,
                                   const std::function<void()>& before_backward) {
  torch::Tensor logits;
  {
    // Named scopes for `ftworker --profile-trace` (worker/profile); free when not profiling.
    RECORD_FUNCTION("ft::forward", std::vector<c10::IValue>());
    AutocastScope autocast(precision.autocast, batch.input_ids.device(), precision.autocast_dtype);
    logits = batch.packed ? model.ForwardPacked(batch.input_ids, batch.attention_mask)
                          : model.forward(batch.input_ids, batch.attention_mask);
  }
  torch::Tensor loss_sum;
  torch::Tensor scaled;
  {
    RECORD_FUNCTION("ft::loss", std::vector<c10::IValue>());
    loss_sum = SummedLoss(model.task(), logits, batch.labels, label_smoothing);
    scaled = loss_sum / static_cast<double>(loss_divisor);
    if (precision.loss_scale != 1.0) scaled = scaled * precision.loss_scale;
  }
  if (before_backward) before_backward();
  {
    RECORD_FUNCTION("ft::backward", std::vector<c10::IValue>());
    scaled.backward();
  }
  return loss_sum.detach();
}

WindowResult AccumulateWindow(
    models::TrainableModelImpl& model, const std::vector<MicroBatch>& micro_batches,
    int64_t loss_divisor, const std::function<bool()>& stop_requested,
    const StepPrecision& precision, double label_smoothing,
    const std::function<void()>& before_last_backward) {
  WindowResult result;
  for (const MicroBatch& batch : micro_batches) {
    if (stop_requested && stop_requested()) {
      result.stopped = true;
      return result;
    }
    const bool last = &batch == &micro_batches.back();
    const torch::Tensor loss_sum =
        AccumulateMicroBatch(model, batch, loss_divisor, precision, label_smoothing,
                             last ? before_last_backward : nullptr);
    result.loss_sum = result.loss_sum.defined() ? result.loss_sum + loss_sum : loss_sum;
  }
  if (!result.loss_sum.defined()) result.loss_sum = torch::zeros({});
  return result;
}

torch::Tensor GlobalGradNorm(const std::vector<torch::Tensor>& parameters) {
  RECORD_FUNCTION("ft::grad_norm", std::vector<c10::IValue>());
  std::vector<torch::Tensor> norms;
  for (const torch::Tensor& parameter : parameters) {
    if (parameter.grad().defined()) norms.push_back(parameter.grad().norm());
  }
  if (norms.empty()) return torch::zeros({});
  return torch::stack(norms).norm();
}

void ClipGradients(const std::vector<torch::Tensor>& parameters, double max_norm,
                   const torch::Tensor& norm) {
  RECORD_FUNCTION("ft::clip_gradients", std::vector<c10::IValue>());
  torch::NoGradGuard no_grad;
  const torch::Tensor scale = (max_norm / (norm + 1e-6)).clamp_max(1.0);
  for (const torch::Tensor& parameter : parameters) {
    if (parameter.grad().defined()) parameter.grad().mul_(scale);
  }
}

}  // namespace ft::train
