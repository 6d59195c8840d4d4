// Which c10d backend sums a rank's tensors (docs/distributed.md, "Backends"): NCCL for a rank on
// a CUDA device when this ftworker was built with it, Gloo otherwise. Standard library only, so
// that the choice and its errors are tested without LibTorch.
#pragma once

#include <string>

namespace ft::distributed {

enum class CollectiveBackend { kGloo, kNccl };

struct BackendsBuilt {
  bool gloo = false;
  bool nccl = false;
};

// requested: "" or "auto" (NCCL on CUDA when built, else Gloo), "gloo" or "nccl".
// Throws std::invalid_argument naming the request, the device and what this build lacks.
CollectiveBackend ChooseCollectiveBackend(const std::string& requested, bool cuda_rank,
                                          BackendsBuilt built);

// "gloo", "nccl".
const char* CollectiveBackendName(CollectiveBackend backend);

}  // namespace ft::distributed
