#include "worker/distributed/gradient_reducer.h"

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>
#include <unordered_set>

namespace ft::distributed {
namespace {

// A tensor listed twice (a tied weight registered under two names) is one parameter: its one
// accumulation node gathers both uses, and its gradient must be summed across ranks once.
std::vector<torch::Tensor> Distinct(const std::vector<torch::Tensor>& parameters) {
  std::unordered_set<const c10::TensorImpl*> seen;
  std::vector<torch::Tensor> distinct;
  for (const torch::Tensor& parameter : parameters) {
    if (seen.insert(parameter.unsafeGetTensorImpl()).second) distinct.push_back(parameter);
  }
  return distinct;
}

}  // namespace

GradientReducer::GradientReducer(Gang& gang, std::vector<torch::Tensor> parameters,
                                 GradientReducerOptions options)
    : gang_(gang),
      parameters_(Distinct(parameters)),
      options_(options),
      buckets_(parameters_, options_.first_bucket_bytes, options_.bucket_bytes) {
  received_.assign(parameters_.size(), false);
  kept_.assign(parameters_.size(), false);
  ready_.assign(parameters_.size(), false);
  has_gradient_.assign(parameters_.size(), false);
  missing_.assign(buckets_.size(), 0);
  // In both modes: the hooks also record which parameters a backward reached with a gradient.
  hooks_ = std::make_unique<GradientReadyHooks>(
      parameters_,
      [this](std::size_t parameter, bool received) { OnGradientReady(parameter, received); });
}

void GradientReducer::BeginWindow(ZeroGrad zero_grad) {
  torch::NoGradGuard no_grad;
  std::lock_guard<std::mutex> lock(mutex_);
  armed_ = false;
  for (std::size_t b = 0; b < buckets_.size(); ++b) buckets_.buffer(b).zero_();
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    torch::Tensor& parameter = parameters_[i];
    kept_[i] = zero_grad == ZeroGrad::kToZeros && parameter.grad().defined();
    received_[i] = false;
    if (!buckets_.IsSlot(i, parameter.grad())) parameter.mutable_grad() = buckets_.Slot(i);
  }
}

void GradientReducer::ArmBeforeLastBackward() {
  if (!options_.overlap) return;
  std::lock_guard<std::mutex> lock(mutex_);
  ResetWindow();
  armed_ = true;
}

void GradientReducer::ResetWindow() {
  std::fill(ready_.begin(), ready_.end(), false);
  for (std::size_t b = 0; b < buckets_.size(); ++b) {
    missing_[b] = buckets_.parameters_of(b).size();
  }
  next_bucket_ = 0;
  last_gradients_copied_ = 0;
}

void GradientReducer::OnGradientReady(std::size_t parameter, bool received) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (received) received_[parameter] = true;
  if (armed_ && ready_[parameter] && received) {
    // The slot was final, and its bucket's sum may be reading it: a second gradient in one
    // backward would race with the all-reduce (DDP refuses the same: "marked ready twice").
    throw std::logic_error(
        "data parallel: parameter " + std::to_string(parameter) +
        " got a second gradient in one backward after it was final; a parameter used both "
        "inside a reentrantly checkpointed block and outside it cannot overlap its all-reduce "
        "with the backward (ftworker --gang-reduce after-backward can)");
  }
  if (!armed_ || ready_[parameter]) return;
  MarkReady(parameter);
  StartCompleteBuckets();
}

void GradientReducer::MarkReady(std::size_t parameter) {
  torch::NoGradGuard no_grad;
  const torch::Tensor& grad = parameters_[parameter].grad();
  if (buckets_.IsSlot(parameter, grad)) {
    // The backward accumulated into the bucket.
    has_gradient_[parameter] = received_[parameter] || kept_[parameter];
    // Zeros already, unless the window began without BeginWindow: a rank without a gradient
    // must add zeros to another rank's.
    if (!has_gradient_[parameter]) grad.zero_();
  } else if (grad.defined()) {
    buckets_.Slot(parameter).copy_(grad);
    has_gradient_[parameter] = true;
    ++last_gradients_copied_;
  } else {
    buckets_.Slot(parameter).zero_();
    has_gradient_[parameter] = false;
  }
  ready_[parameter] = true;
  --missing_[buckets_.bucket_of(parameter)];
}

void GradientReducer::StartCompleteBuckets() {
  while (next_bucket_ < buckets_.size() && missing_[next_bucket_] == 0) {
    gang_.StartSum(buckets_.buffer(next_bucket_));
    ++next_bucket_;
  }
}

std::vector<double> GradientReducer::Finish(const std::vector<double>& extras) {
  const auto start = std::chrono::steady_clock::now();
  torch::NoGradGuard no_grad;
  std::lock_guard<std::mutex> lock(mutex_);
  // No backward was armed (none computed, stopped, or no overlap): every bucket starts here.
  if (!armed_) ResetWindow();
  armed_ = false;
  last_buckets_during_backward_ = next_bucket_;
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    if (!ready_[i]) MarkReady(i);
  }
  StartCompleteBuckets();
  // The extras, then one flag per parameter: how many ranks hold its gradient. Started last, so
  // that every rank starts its sums in the same order whatever its backward did.
  torch::Tensor small =
      torch::zeros({static_cast<int64_t>(extras.size() + parameters_.size())}, torch::kFloat64);
  double* small_values = small.data_ptr<double>();
  std::copy(extras.begin(), extras.end(), small_values);
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    if (has_gradient_[i]) small_values[extras.size() + i] = 1.0;
  }
  gang_.StartSum(small);
  gang_.WaitForSums();

  const double* sums = small.data_ptr<double>();
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    torch::Tensor& parameter = parameters_[i];
    if (sums[extras.size() + i] == 0) {
      parameter.mutable_grad() = torch::Tensor();
    } else if (!buckets_.IsSlot(i, parameter.grad())) {
      parameter.mutable_grad() = buckets_.Slot(i);
    }
    // For a next window that begins without BeginWindow.
    kept_[i] = parameter.grad().defined();
    received_[i] = false;
  }
  last_exposed_seconds_ =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return std::vector<double>(sums, sums + extras.size());
}

}  // namespace ft::distributed
