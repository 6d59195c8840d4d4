// A rank's link to the other processes of a data-parallel job: c10d's TCPStore (hosted by rank 0)
// and a process group (NCCL for a CUDA rank where built, else Gloo; collective_backend.h), with
// DistributedOptions' timeouts on every collective, so that a rank that dies or hangs ends the
// collective on the others with an error instead of a hang. LibTorch types in this header, c10d's
// only in gang.cc and nccl_group.cc: the trainer includes it, the daemon never.
#pragma once

#include <torch/types.h>

#include <memory>
#include <vector>

#include "worker/distributed/distributed_options.h"

namespace ft::distributed {

class Gang {
 public:
  // Connects to (rank 0: hosts) the store at store_host:store_port and builds the process group
  // of the rank on `device` (options.backend picks it). Throws std::runtime_error naming the
  // address when the store cannot be reached within timeout_seconds, or when the other ranks do
  // not join in time; std::invalid_argument when this build has no backend for the device.
  static std::unique_ptr<Gang> Join(const train::DistributedOptions& options,
                                    torch::Device device = torch::kCPU);
  // False when this build has no c10d Gloo backend (Join then throws for CPU ranks).
  static bool Available();
  ~Gang();
  Gang(const Gang&) = delete;
  Gang& operator=(const Gang&) = delete;

  int rank() const { return rank_; }
  int world_size() const { return world_size_; }
  // "gloo", "nccl".
  const char* backend() const;

  // Element-wise sum across ranks, in place, of contiguous tensors on the CPU or the rank's
  // device: every all-reduce is started before the first is waited for. A tensor that is not
  // where the backend sums (a CPU tensor under NCCL, a CUDA one under Gloo) travels as a copy,
  // and the sum is copied back when it is waited for. Throws std::runtime_error when a peer fails
  // or the timeout passes.
  void SumInPlace(std::vector<torch::Tensor>& tensors);
  // The same in parts, so that the caller can go on computing while the sums travel: StartSum
  // begins summing one tensor (which must stay untouched until its wait returns); WaitForNextSum
  // waits for the oldest sum not waited for yet, WaitForSums for all of them. Every rank must
  // start its sums in the same order with the same shapes: that order is how Gloo pairs them.
  void StartSum(const torch::Tensor& tensor);
  void WaitForNextSum();
  void WaitForSums();
  // Element-wise maximum across ranks, in place (copied as above).
  void MaxInPlace(torch::Tensor& tensor);

 private:
  struct Group;
  Gang(int rank, int world_size, std::unique_ptr<Group> group);

  int rank_;
  int world_size_;
  std::unique_ptr<Group> group_;
};

}  // namespace ft::distributed
