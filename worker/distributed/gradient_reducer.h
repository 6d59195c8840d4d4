// The gang's gradient all-reduce, once per optimizer step, as DDP's Reducer does it with
// gradient_as_bucket_view: each trainable parameter's .grad is its slot in a coalesced bucket
// (gradient_buckets.h), so the backward accumulates into the buckets and the sums are made in
// place, with nothing copied. Overlapped with the backward of the window's last micro-batch (the
// GPU's default), each bucket's sum starts as soon as the backward has finished all of its
// gradients (gradient_ready_hooks.h), buckets strictly in order so that every rank starts the same
// sums in the same order; what is left (buckets that a backward never completes, the window's
// extras, one has-gradient flag per parameter) starts after the backward, and then everything is
// waited for. The caller divides each micro-batch's loss by the window's GLOBAL loss terms before
// backward (train_step.h), so the sum is the gradient of the window's mean loss, as in one process.
//
// Correctness never depends on the .grad still being its slot: BeginWindow points every .grad at
// its slot again, and a gradient found elsewhere in Finish (LibTorch 2.x's zero_grad sets grads to
// None, an out-of-place accumulation, any code that assigns a grad) is copied into its slot first,
// as a bucket without views would do.
#pragma once

#include <torch/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "worker/distributed/gang.h"
#include "worker/distributed/gradient_buckets.h"
#include "worker/distributed/gradient_ready_hooks.h"

namespace ft::distributed {

struct GradientReducerOptions {
  // DDP's defaults are 1 MiB for the first bucket (so that the first sum starts early) and 25
  // MiB after; smaller buckets let more of a small model's sums start during the backward.
  std::size_t first_bucket_bytes = std::size_t{1} << 20;
  std::size_t bucket_bytes = std::size_t{4} << 20;
  // false: every sum starts after the backward, for comparison.
  bool overlap = true;
};

// What the optimizer's zero_grad() makes of a gradient, which BeginWindow stands in for.
enum class ZeroGrad {
  // LibTorch 1.x: zeroed in place; a parameter that has a gradient keeps a defined one, and the
  // optimizer steps it even in a window in which nothing reaches it.
  kToZeros,
  // LibTorch 2.x's default (set_to_none): only what the window's backwards reach has a gradient.
  kToNone,
};

class GradientReducer {
 public:
  GradientReducer(Gang& gang, std::vector<torch::Tensor> parameters,
                  GradientReducerOptions options = {});

  // Before the window's first backward, in place of the optimizer's zero_grad(): zeroes the
  // buckets and points every .grad at its slot. Without it, the window's gradients add to the
  // last window's sums, as without zero_grad; the first window then copies them in.
  void BeginWindow(ZeroGrad zero_grad);

  // Just before the backward of this rank's last micro-batch of the window: from now on a
  // bucket's sum starts as soon as its gradients are final. Earlier micro-batches only
  // accumulate. A parameter that this backward does not reach (no gradient in this window, or
  // only from earlier micro-batches) holds back its bucket and the later ones until Finish.
  // Not called (a rank with no micro-batch, or stopped): everything starts in Finish. A
  // parameter that gets a second gradient in this backward after it was final (used inside a
  // reentrant nested backward and outside it) fails the backward with std::logic_error.
  void ArmBeforeLastBackward();

  // After the window's backward: sums every gradient across the gang, and `extras` (a few
  // per-rank numbers: loss, flags) in the same round. A rank that computed no micro-batch joins
  // with zeros. A parameter has a gradient on a rank when a backward of the window reached it
  // with one, or when it kept one (ZeroGrad::kToZeros, or a gradient assigned to it); one that no
  // rank has a gradient for is left without one (undefined), so the optimizer skips it exactly as
  // in one process. Every other .grad is its slot, holding the sum. Returns the summed extras.
  std::vector<double> Finish(const std::vector<double>& extras);

  // Finish's wall time: the communication not hidden behind the backward (with the wait for the
  // slowest rank).
  double last_exposed_seconds() const { return last_exposed_seconds_; }
  // How many buckets' sums the last window started during its backward.
  std::size_t last_buckets_during_backward() const { return last_buckets_during_backward_; }
  // How many gradients the last Finish found outside their slots and copied in.
  std::size_t last_gradients_copied() const { return last_gradients_copied_; }
  // What one optimizer step sends into the all-reduce (each rank's input), in bytes.
  uint64_t bytes_per_reduce() const { return buckets_.bytes(); }
  std::size_t bucket_count() const { return buckets_.size(); }
  const GradientBuckets& buckets() const { return buckets_; }

 private:
  // From the backward's thread: the accumulation node of `parameter` ran.
  void OnGradientReady(std::size_t parameter, bool received);
  void ResetWindow();  // nothing ready, nothing started. mutex_ held.
  // Puts parameter's gradient (zeros without one) into its slot, unless it is already there,
  // and decides whether this rank has one. mutex_ held.
  void MarkReady(std::size_t parameter);
  // Starts the sums of the complete buckets that follow the last started one. mutex_ held.
  void StartCompleteBuckets();

  Gang& gang_;
  std::vector<torch::Tensor> parameters_;
  GradientReducerOptions options_;
  GradientBuckets buckets_;

  // The window's progress. Hooks may run on autograd's device threads (CUDA).
  std::mutex mutex_;
  bool armed_ = false;
  // Per parameter: a backward of this window reached it with a gradient (a defined .grad says
  // nothing once it is a slot: it always is one).
  std::vector<bool> received_;
  std::vector<bool> kept_;            // per parameter: had a gradient when the window began
  std::vector<bool> ready_;           // per parameter: its slot holds this rank's gradient
  std::vector<bool> has_gradient_;    // per parameter, decided by MarkReady
  std::vector<std::size_t> missing_;  // per bucket: parameters not ready yet
  std::size_t next_bucket_ = 0;       // buckets [0, next_bucket_) are summing

  double last_exposed_seconds_ = 0;
  std::size_t last_buckets_during_backward_ = 0;
  std::size_t last_gradients_copied_ = 0;
  std::unique_ptr<GradientReadyHooks> hooks_;  // last: removed before the state they touch
};

}  // namespace ft::distributed
