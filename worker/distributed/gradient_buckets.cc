#include "worker/distributed/gradient_buckets.h"

#include <algorithm>

namespace ft::distributed {
namespace {

uint64_t Bytes(const torch::Tensor& tensor) {
  return static_cast<uint64_t>(tensor.numel()) * tensor.element_size();
}

std::vector<int64_t> ContiguousStrides(c10::IntArrayRef sizes) {
  std::vector<int64_t> strides(sizes.size(), 1);
  for (std::size_t d = sizes.size(); d-- > 1;) {
    strides[d - 1] = strides[d] * std::max<int64_t>(sizes[d], 1);
  }
  return strides;
}

}  // namespace

GradientBuckets::GradientBuckets(const std::vector<torch::Tensor>& parameters,
                                 std::size_t first_bucket_bytes, std::size_t bucket_bytes) {
  slots_.resize(parameters.size());
  uint64_t in_bucket = 0;
  int64_t elements = 0;
  for (std::size_t k = parameters.size(); k-- > 0;) {
    const torch::Tensor& parameter = parameters[k];
    const std::size_t cap = buckets_.size() == 1 ? first_bucket_bytes : bucket_bytes;
    const torch::Tensor* previous =
        buckets_.empty() ? nullptr : &parameters[buckets_.back().parameters.back()];
    const bool fits = previous != nullptr && previous->scalar_type() == parameter.scalar_type() &&
                      previous->device() == parameter.device() &&
                      in_bucket + Bytes(parameter) <= cap;
    if (!fits) {
      if (previous != nullptr) {
        buckets_.back().buffer = torch::empty({elements}, previous->options());
      }
      buckets_.emplace_back();
      in_bucket = 0;
      elements = 0;
    }
    SlotPlace& slot = slots_[k];
    slot.bucket = buckets_.size() - 1;
    slot.offset = elements;
    slot.sizes = parameter.sizes().vec();
    slot.strides = parameter.is_non_overlapping_and_dense() ? parameter.strides().vec()
                                                            : ContiguousStrides(parameter.sizes());
    buckets_.back().parameters.push_back(k);
    elements += parameter.numel();
    in_bucket += Bytes(parameter);
    bytes_ += Bytes(parameter);
  }
  if (!buckets_.empty()) {
    buckets_.back().buffer =
        torch::empty({elements}, parameters[buckets_.back().parameters.back()].options());
  }
}

torch::Tensor GradientBuckets::Slot(std::size_t parameter) const {
  const SlotPlace& slot = slots_[parameter];
  const torch::Tensor& buffer = buckets_[slot.bucket].buffer;
  torch::NoGradGuard no_grad;
  return torch::empty({0}, buffer.options())
      .set_(buffer.storage(), buffer.storage_offset() + slot.offset, slot.sizes, slot.strides);
}

bool GradientBuckets::IsSlot(std::size_t parameter, const torch::Tensor& gradient) const {
  if (!gradient.defined()) return false;
  const SlotPlace& slot = slots_[parameter];
  const torch::Tensor& buffer = buckets_[slot.bucket].buffer;
  return gradient.is_alias_of(buffer) && gradient.scalar_type() == buffer.scalar_type() &&
         gradient.storage_offset() == buffer.storage_offset() + slot.offset &&
         gradient.sizes() == c10::IntArrayRef(slot.sizes) &&
         gradient.strides() == c10::IntArrayRef(slot.strides);
}

}  // namespace ft::distributed
