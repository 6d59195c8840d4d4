// Where a gang's gradients live, as with DDP's gradient_as_bucket_view: the trainable parameters
// are grouped in reverse model order (the order in which the backward finishes their gradients)
// into coalesced buckets, one contiguous buffer each, of one dtype and device, up to a byte cap;
// each parameter has a slot in its bucket, shaped and strided like it. GradientReducer points
// every .grad at its slot, so that autograd accumulates the micro-batches' gradients into the
// buckets in place and the all-reduce sums them where they lie: no copy into the buckets and back,
// and no second copy of the gradients in memory.
#pragma once

#include <torch/types.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ft::distributed {

class GradientBuckets {
 public:
  // parameters: distinct tensors (a tied weight once). Each buffer is allocated on its
  // parameters' device, uninitialised. A parameter larger than the cap gets a bucket of its own.
  GradientBuckets(const std::vector<torch::Tensor>& parameters, std::size_t first_bucket_bytes,
                  std::size_t bucket_bytes);

  std::size_t size() const { return buckets_.size(); }
  // Bucket b's buffer: flat, contiguous, kept from step to step (a fresh one each step would cost
  // an allocation the size of the model, and the page faults that come with it).
  const torch::Tensor& buffer(std::size_t bucket) const { return buckets_[bucket].buffer; }
  // Bucket b's parameters (indices into the constructor's list), in backward order.
  const std::vector<std::size_t>& parameters_of(std::size_t bucket) const {
    return buckets_[bucket].parameters;
  }
  std::size_t bucket_of(std::size_t parameter) const { return slots_[parameter].bucket; }
  // What all buffers together hold, in bytes.
  uint64_t bytes() const { return bytes_; }

  // A new tensor on parameter's slot. It shares the buffer's storage without being an autograd
  // view of it: autograd refuses to detach a view in place, which LibTorch 1.13's
  // Optimizer::zero_grad() does to every grad ("Can't detach views in-place", the error that
  // DDP's gradient_as_bucket_view meets there).
  torch::Tensor Slot(std::size_t parameter) const;
  // Whether `gradient` is parameter's slot: the same memory, dtype, shape and strides.
  bool IsSlot(std::size_t parameter, const torch::Tensor& gradient) const;

 private:
  struct Bucket {
    std::vector<std::size_t> parameters;
    torch::Tensor buffer;
  };
  struct SlotPlace {
    std::size_t bucket = 0;
    int64_t offset = 0;  // first element in the buffer
    std::vector<int64_t> sizes;
    // The parameter's own strides when it is dense (autograd's layout contract for gradients,
    // kept by its in-place accumulation), contiguous ones otherwise.
    std::vector<int64_t> strides;
  };

  std::vector<Bucket> buckets_;
  std::vector<SlotPlace> slots_;  // per parameter
  uint64_t bytes_ = 0;
};

}  // namespace ft::distributed
