#include "worker/distributed/gradient_reducer.h"

#include <algorithm>
#include <chrono>

namespace ft::distributed {
namespace {

uint64_t Bytes(const torch::Tensor& tensor) {
  return static_cast<uint64_t>(tensor.numel()) * tensor.element_size();
}

}  // namespace

GradientReducer::GradientReducer(Gang& gang, std::vector<torch::Tensor> parameters,
                                 std::size_t bucket_bytes)
    : gang_(gang), parameters_(std::move(parameters)) {
  // A bucket holds parameters of one dtype, in the model's order, up to bucket_bytes (a larger
  // parameter gets a bucket of its own).
  uint64_t in_bucket = 0;
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    const bool same_dtype =
        i > 0 && parameters_[i].scalar_type() == parameters_[i - 1].scalar_type();
    if (buckets_.empty() || !same_dtype || in_bucket + Bytes(parameters_[i]) > bucket_bytes) {
      buckets_.push_back(Bucket{i, i, torch::Tensor()});
      in_bucket = 0;
    }
    buckets_.back().end = i + 1;
    in_bucket += Bytes(parameters_[i]);
    bytes_per_reduce_ += Bytes(parameters_[i]);
  }
  for (Bucket& bucket : buckets_) {
    int64_t elements = 0;
    for (std::size_t i = bucket.first; i < bucket.end; ++i) elements += parameters_[i].numel();
    bucket.flat = torch::empty({elements},
                               parameters_[bucket.first].options().device(torch::kCPU));
  }
}

std::vector<double> GradientReducer::Reduce(const std::vector<double>& extras) {
  const auto start = std::chrono::steady_clock::now();
  torch::NoGradGuard no_grad;
  const auto on_cpu = torch::TensorOptions().dtype(torch::kFloat64);
  // The extras, then one flag per parameter: how many ranks hold its gradient.
  torch::Tensor small = torch::zeros({static_cast<int64_t>(extras.size() + parameters_.size())},
                                     on_cpu);
  double* small_values = small.data_ptr<double>();
  std::vector<torch::Tensor> flat;
  flat.reserve(buckets_.size() + 1);
  for (const Bucket& bucket : buckets_) {
    int64_t offset = 0;
    for (std::size_t i = bucket.first; i < bucket.end; ++i) {
      const torch::Tensor& grad = parameters_[i].grad();
      torch::Tensor slot = bucket.flat.narrow(0, offset, parameters_[i].numel());
      offset += parameters_[i].numel();
      if (grad.defined()) {
        small_values[extras.size() + i] = 1.0;
        slot.copy_(grad.reshape({-1}));
      } else {
        slot.zero_();
      }
    }
    flat.push_back(bucket.flat);
  }
  std::copy(extras.begin(), extras.end(), small_values);
  flat.push_back(small);
  gang_.SumInPlace(flat);

  const double* sums = small.data_ptr<double>();
  for (std::size_t b = 0; b < buckets_.size(); ++b) {
    int64_t offset = 0;
    for (std::size_t i = buckets_[b].first; i < buckets_[b].end; ++i) {
      torch::Tensor& parameter = parameters_[i];
      const torch::Tensor summed =
          buckets_[b].flat.narrow(0, offset, parameter.numel()).view(parameter.sizes());
      offset += parameter.numel();
      if (parameter.grad().defined()) {
        parameter.mutable_grad().copy_(summed);
      } else if (sums[extras.size() + i] > 0) {
        parameter.mutable_grad() = summed.to(parameter.device()).clone();
      }
    }
  }
  last_seconds_ =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return std::vector<double>(sums, sums + extras.size());
}

}  // namespace ft::distributed
