// The gang's gradient all-reduce, once per optimizer step: every trainable parameter's gradient
// is flattened into coalesced buckets (one contiguous tensor of up to bucket_bytes each), all
// buckets are summed across the ranks together, and the sums are copied back into .grad. The
// caller divides each micro-batch's loss by the window's GLOBAL loss terms before backward
// (train_step.h), so the sum is the gradient of the window's mean loss, as in one process.
#pragma once

#include <torch/types.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "worker/distributed/gang.h"

namespace ft::distributed {

inline constexpr std::size_t kDefaultBucketBytes = std::size_t{25} << 20;  // as DDP's default

class GradientReducer {
 public:
  GradientReducer(Gang& gang, std::vector<torch::Tensor> parameters,
                  std::size_t bucket_bytes = kDefaultBucketBytes);

  // Sums every gradient across the gang, and `extras` (a few per-rank numbers: loss, flags) in
  // the same round. A rank that computed no micro-batch (a short last window) joins with zeros;
  // a parameter that no rank has a gradient for keeps none, so the optimizer skips it exactly as
  // in one process. Returns the summed extras.
  std::vector<double> Reduce(const std::vector<double>& extras);

  double last_seconds() const { return last_seconds_; }
  // What one Reduce sends into the all-reduce (each rank's input), in bytes.
  uint64_t bytes_per_reduce() const { return bytes_per_reduce_; }
  std::size_t bucket_count() const { return buckets_.size(); }

 private:
  struct Bucket {
    std::size_t first = 0;  // parameters [first, end)
    std::size_t end = 0;
    // The bucket's contiguous CPU buffer, kept from step to step: a fresh one each step would cost
    // an allocation the size of the model, and the page faults that come with it.
    torch::Tensor flat;
  };

  Gang& gang_;
  std::vector<torch::Tensor> parameters_;
  std::vector<Bucket> buckets_;
  double last_seconds_ = 0;
  uint64_t bytes_per_reduce_ = 0;
};

}  // namespace ft::distributed
