// The gang's gradient all-reduce, once per optimizer step, overlapped with the backward of the
// window's last micro-batch as DDP's Reducer does it: the trainable parameters are grouped into
// coalesced buckets (contiguous CPU tensors) in reverse model order, the order in which the
// backward finishes their gradients, and each bucket's sum is started as soon as the backward has
// finished all of its gradients (gradient_ready_hooks.h), buckets strictly in order so that every
// rank starts the same sums in the same order. What is left (buckets that a backward never
// completes, the window's extras, one has-gradient flag per parameter) is started after the
// backward, then everything is waited for and copied back into .grad. The caller divides each
// micro-batch's loss by the window's GLOBAL loss terms before backward (train_step.h), so the sum
// is the gradient of the window's mean loss, as in one process.
#pragma once

#include <torch/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "worker/distributed/gang.h"
#include "worker/distributed/gradient_ready_hooks.h"

namespace ft::distributed {

struct GradientReducerOptions {
  // DDP's defaults are 1 MiB for the first bucket (so that the first sum starts early) and 25
  // MiB after; smaller buckets let more of a small model's sums start during the backward.
  std::size_t first_bucket_bytes = std::size_t{1} << 20;
  std::size_t bucket_bytes = std::size_t{4} << 20;
  // false: every sum starts after the backward (no hooks armed), for comparison.
  bool overlap = true;
};

class GradientReducer {
 public:
  GradientReducer(Gang& gang, std::vector<torch::Tensor> parameters,
                  GradientReducerOptions options = {});

  // Just before the backward of this rank's last micro-batch of the window: from now on a
  // bucket's sum starts as soon as its gradients are final. Earlier micro-batches only
  // accumulate. A parameter that this backward does not reach (no gradient in this window, or
  // only from earlier micro-batches) holds back its bucket and the later ones until Finish.
  // Not called (a rank with no micro-batch, or stopped): everything starts in Finish.
  void ArmBeforeLastBackward();

  // After the window's backward: sums every gradient across the gang, and `extras` (a few
  // per-rank numbers: loss, flags) in the same round. A rank that computed no micro-batch joins
  // with zeros; a parameter that no rank has a gradient for keeps none, so the optimizer skips it
  // exactly as in one process. Returns the summed extras.
  std::vector<double> Finish(const std::vector<double>& extras);

  // Finish's wall time: the communication not hidden behind the backward (with the wait for the
  // slowest rank).
  double last_exposed_seconds() const { return last_exposed_seconds_; }
  // How many buckets' sums the last window started during its backward.
  std::size_t last_buckets_during_backward() const { return last_buckets_during_backward_; }
  // What one optimizer step sends into the all-reduce (each rank's input), in bytes.
  uint64_t bytes_per_reduce() const { return bytes_per_reduce_; }
  std::size_t bucket_count() const { return buckets_.size(); }

 private:
  struct Bucket {
    std::vector<std::size_t> parameters;  // indices into parameters_, in backward order
    std::vector<int64_t> offsets;         // each one's first element in `flat`
    // The bucket's contiguous CPU buffer, kept from step to step: a fresh one each step would cost
    // an allocation the size of the model, and the page faults that come with it.
    torch::Tensor flat;
  };

  void OnGradientReady(std::size_t parameter);  // from the backward's thread
  void ResetWindow();  // nothing ready, nothing started. mutex_ held.
  // Copies parameter's gradient (zeros without one) into its bucket's slot. mutex_ held.
  void MarkReady(std::size_t parameter);
  // parameter's place in its bucket, shaped like it.
  torch::Tensor Slot(std::size_t parameter) const;
  // Starts the sums of the complete buckets that follow the last started one. mutex_ held.
  void StartCompleteBuckets();

  Gang& gang_;
  std::vector<torch::Tensor> parameters_;
  GradientReducerOptions options_;
  std::vector<Bucket> buckets_;
  std::vector<std::size_t> bucket_of_;  // per parameter
  std::vector<std::size_t> slot_of_;    // per parameter: its position in its bucket

  // The window's progress. Hooks may run on autograd's device threads (CUDA).
  std::mutex mutex_;
  bool armed_ = false;
  std::vector<bool> ready_;             // per parameter: copied into its bucket
  std::vector<std::size_t> missing_;    // per bucket: parameters not ready yet
  std::size_t next_bucket_ = 0;         // buckets [0, next_bucket_) are summing

  double last_exposed_seconds_ = 0;
  std::size_t last_buckets_during_backward_ = 0;
  uint64_t bytes_per_reduce_ = 0;
  std::unique_ptr<GradientReadyHooks> hooks_;  // last: removed before the state they touch
};

}  // namespace ft::distributed
