// How one process takes part in a data-parallel job (docs/distributed.md): its rank, the gang's
// size and where the gang meets. Standard library only, so that the daemon glue (gRPC, abseil)
// can fill it without including LibTorch.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace ft::train {

struct DistributedOptions {
  int rank = 0;
  int world_size = 1;  // 1: not distributed; every other field is ignored
  // Rank 0 hosts c10d's TCPStore; the other ranks connect to it. Rank 0 may leave store_port at
  // 0 to bind a free port, which it then announces through on_store_listening (so that ftd can
  // hand the address to the other ranks).
  std::string store_host;
  int store_port = 0;
  // Keys of this attempt in the store, so that a retried gang never meets a stale one.
  std::string store_prefix;
  // c10d timeouts: a rank that dies or hangs ends the collective on every other rank within this.
  double timeout_seconds = 60;
  // true: each gradient bucket's all-reduce starts during the backward, as soon as the bucket's
  // gradients are final (gradient_reducer.h); false: all of them after the backward. Unset: on a
  // GPU overlapped, on the CPU after the backward, where Gloo's copies and sums compete with the
  // backward for the same cores (measured: 1.73x against 1.77x the samples/s of one rank, median,
  // docs/distributed.md).
  std::optional<bool> overlap_gradient_reduce;
  // c10d backend (worker/distributed/collective_backend.h): "" (auto: NCCL for a CUDA rank where
  // this ftworker was built with it, else Gloo), "gloo" or "nccl".
  std::string backend;
  std::function<void(int port)> on_store_listening;
};

}  // namespace ft::train
