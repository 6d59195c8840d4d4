// LibTorch's autograd profiler over a stretch of training, for `ftworker --spec ... --profile-trace
// FILE` (docs/performance.md): every operator that the calling thread runs between Start() and
// StopAndWrite() (the forward pass, the backward pass, which the autograd engine runs on the
// calling thread for CPU tensors, the loss and the optimizer), with the scopes the trainer names
// (ft::forward, ft::loss, ft::backward, ft::optimizer_step, ...), written as a Chrome trace
// (chrome://tracing; tests/bench/profile_step.py turns it into a table). Operators of other
// threads (the batch prefetcher's collation) are not recorded. Standard library only, so that the
// daemon glue includes it without Torch headers.
#pragma once

#include <string>

namespace ft::profile {

class OperatorTrace {
 public:
  OperatorTrace() = default;
  OperatorTrace(const OperatorTrace&) = delete;
  OperatorTrace& operator=(const OperatorTrace&) = delete;
  ~OperatorTrace();  // stops a running recording without writing it

  // Starts recording on the calling thread; false if this trace already records.
  bool Start();
  // Stops (on the thread that started) and writes the trace to `path`. Throws std::runtime_error
  // naming the path when it cannot write; false if nothing was recording.
  bool StopAndWrite(const std::string& path);
  bool recording() const { return recording_; }

 private:
  bool recording_ = false;
};

}  // namespace ft::profile
