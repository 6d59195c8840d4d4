// Collates the next windows' micro-batches (padding, tensors) on a background thread while the
// model computes the current one: a bounded queue, `depth` windows ahead (2 by default).
//
// The thread only copies token ids into freshly allocated CPU tensors (pinned when the model is
// on CUDA, so the copy to the device overlaps); it never calls LibTorch's parallel kernels and
// never changes its thread settings. What it produces depends only on the windows and the split,
// in order, so training with the prefetcher is bit-identical to collating in the loop. Windows are
// consumed from `first` on (a resumed epoch starts mid-way). The destructor stops the thread and
// waits for it (at most one window's collation), so a cancel or max_steps just drops the object.
#pragma once

#include <torch/types.h>

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "worker/data/example_sampler.h"
#include "worker/data/job_data.h"
#include "worker/data/micro_batch.h"

namespace ft::train {

inline constexpr std::size_t kPrefetchDepth = 2;

struct PreparedWindow {
  std::size_t index = 0;  // in the epoch's windows
  std::vector<MicroBatch> micro_batches;  // on the CPU
  int64_t tokens = 0;        // real tokens
  int64_t padded_slots = 0;  // tokens + padding
};

class BatchPrefetcher {
 public:
  // `split` and `windows` must outlive the prefetcher.
  BatchPrefetcher(const TokenizedSplit& split, const std::vector<Window>& windows,
                  std::size_t first, std::size_t depth = kPrefetchDepth, bool pin_memory = false);
  ~BatchPrefetcher();
  BatchPrefetcher(const BatchPrefetcher&) = delete;
  BatchPrefetcher& operator=(const BatchPrefetcher&) = delete;

  // The next window, in order; waits until it is ready. Rethrows what collating it threw.
  // Throws std::logic_error past the last window.
  PreparedWindow Next();

  double wait_seconds() const { return wait_seconds_; }  // time Next() spent waiting

 private:
  void Produce();

  const TokenizedSplit& split_;
  const std::vector<Window>& windows_;
  const std::size_t depth_;
  const bool pin_memory_;
  const std::size_t first_;
  std::size_t next_to_take_;  // the consumer's

  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<PreparedWindow> ready_;  // guarded by mutex_
  std::exception_ptr error_;          // guarded by mutex_
  bool stop_ = false;                 // guarded by mutex_
  double wait_seconds_ = 0;
  std::thread thread_;  // last: starts after everything above is initialized
};

// Collates one window on the calling thread (the prefetcher's work, also used after a CUDA
// out-of-memory retry re-cuts a window).
PreparedWindow PrepareWindow(const TokenizedSplit& split, const Window& window, std::size_t index,
                             bool pin_memory);

}  // namespace ft::train
