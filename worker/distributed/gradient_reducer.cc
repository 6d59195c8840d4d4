#include "worker/distributed/gradient_reducer.h"

#include <algorithm>
#include <chrono>
#include <unordered_set>

namespace ft::distributed {
namespace {

uint64_t Bytes(const torch::Tensor& tensor) {
  return static_cast<uint64_t>(tensor.numel()) * tensor.element_size();
}

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
    : gang_(gang), parameters_(Distinct(parameters)), options_(options) {
  // Reverse model order: the backward finishes the last layers' gradients first. A bucket holds
  // parameters of one dtype up to its byte cap (a larger parameter gets a bucket of its own).
  bucket_of_.resize(parameters_.size());
  slot_of_.resize(parameters_.size());
  uint64_t in_bucket = 0;
  for (std::size_t k = parameters_.size(); k-- > 0;) {
    const torch::Tensor& parameter = parameters_[k];
    const std::size_t cap =
        buckets_.size() == 1 ? options_.first_bucket_bytes : options_.bucket_bytes;
    const bool same_dtype =
        !buckets_.empty() &&
        parameters_[buckets_.back().parameters.back()].scalar_type() == parameter.scalar_type();
    if (buckets_.empty() || !same_dtype || in_bucket + Bytes(parameter) > cap) {
      buckets_.emplace_back();
      in_bucket = 0;
    }
    Bucket& bucket = buckets_.back();
    bucket_of_[k] = buckets_.size() - 1;
    slot_of_[k] = bucket.parameters.size();
    bucket.offsets.push_back(bucket.parameters.empty()
                                 ? 0
                                 : bucket.offsets.back() +
                                       parameters_[bucket.parameters.back()].numel());
    bucket.parameters.push_back(k);
    in_bucket += Bytes(parameter);
    bytes_per_reduce_ += Bytes(parameter);
  }
  for (Bucket& bucket : buckets_) {
    const std::size_t last = bucket.parameters.back();
    bucket.flat = torch::empty({bucket.offsets.back() + parameters_[last].numel()},
                               parameters_[last].options().device(torch::kCPU));
  }
  ready_.assign(parameters_.size(), false);
  missing_.assign(buckets_.size(), 0);
  if (options_.overlap) {
    hooks_ = std::make_unique<GradientReadyHooks>(
        parameters_, [this](std::size_t parameter) { OnGradientReady(parameter); });
  }
}

void GradientReducer::ArmBeforeLastBackward() {
  if (!hooks_) return;
  std::lock_guard<std::mutex> lock(mutex_);
  ResetWindow();
  armed_ = true;
}

void GradientReducer::ResetWindow() {
  std::fill(ready_.begin(), ready_.end(), false);
  for (std::size_t b = 0; b < buckets_.size(); ++b) missing_[b] = buckets_[b].parameters.size();
  next_bucket_ = 0;
}

void GradientReducer::OnGradientReady(std::size_t parameter) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!armed_ || ready_[parameter]) return;
  MarkReady(parameter);
  StartCompleteBuckets();
}

void GradientReducer::MarkReady(std::size_t parameter) {
  torch::NoGradGuard no_grad;
  torch::Tensor slot = Slot(parameter);
  const torch::Tensor& grad = parameters_[parameter].grad();
  if (grad.defined()) {
    slot.copy_(grad);
  } else {
    slot.zero_();
  }
  ready_[parameter] = true;
  --missing_[bucket_of_[parameter]];
}

torch::Tensor GradientReducer::Slot(std::size_t parameter) const {
  const Bucket& bucket = buckets_[bucket_of_[parameter]];
  const torch::Tensor& shape = parameters_[parameter];
  return bucket.flat.narrow(0, bucket.offsets[slot_of_[parameter]], shape.numel())
      .view(shape.sizes());
}

void GradientReducer::StartCompleteBuckets() {
  while (next_bucket_ < buckets_.size() && missing_[next_bucket_] == 0) {
    gang_.StartSum(buckets_[next_bucket_].flat);
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
  torch::Tensor small = torch::zeros(
      {static_cast<int64_t>(extras.size() + parameters_.size())}, torch::kFloat64);
  double* small_values = small.data_ptr<double>();
  std::copy(extras.begin(), extras.end(), small_values);
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    if (parameters_[i].grad().defined()) small_values[extras.size() + i] = 1.0;
  }
  gang_.StartSum(small);

  // Each bucket's sums go back into .grad as soon as they arrive, while later buckets travel.
  for (const Bucket& bucket : buckets_) {
    gang_.WaitForNextSum();
    for (std::size_t i : bucket.parameters) {
      // One without a gradient here waits for the flags: does any rank have one?
      if (parameters_[i].grad().defined()) parameters_[i].mutable_grad().copy_(Slot(i));
    }
  }
  gang_.WaitForNextSum();
  const double* sums = small.data_ptr<double>();
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    torch::Tensor& parameter = parameters_[i];
    if (parameter.grad().defined() || sums[extras.size() + i] == 0) continue;
    parameter.mutable_grad() = Slot(i).to(parameter.device()).clone();
  }
  last_exposed_seconds_ =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return std::vector<double>(sums, sums + extras.size());
}

}  // namespace ft::distributed
