#include "worker/distributed/collective_backend.h"

#include <stdexcept>

namespace ft::distributed {
namespace {

std::string Where(bool cuda_rank) { return cuda_rank ? "a CUDA rank" : "a CPU rank"; }

}  // namespace

CollectiveBackend ChooseCollectiveBackend(const std::string& requested, bool cuda_rank,
                                          BackendsBuilt built) {
  const std::string prefix = "gang backend '" + requested + "' for " + Where(cuda_rank) + ": ";
  if (requested == "nccl") {
    if (!cuda_rank) throw std::invalid_argument(prefix + "NCCL sums CUDA tensors only");
    if (!built.nccl) {
      throw std::invalid_argument(prefix +
                                  "this ftworker was built without c10d's NCCL backend (it "
                                  "needs a CUDA LibTorch and nccl.h; worker/CMakeLists.txt)");
    }
    return CollectiveBackend::kNccl;
  }
  if (requested == "gloo") {
    if (!built.gloo) {
      throw std::invalid_argument(prefix +
                                  "this ftworker was built without c10d's Gloo backend (its "
                                  "LibTorch came without Gloo's headers)");
    }
    return CollectiveBackend::kGloo;
  }
  if (!requested.empty() && requested != "auto") {
    throw std::invalid_argument(prefix + "must be auto, gloo or nccl");
  }
  if (cuda_rank && built.nccl) return CollectiveBackend::kNccl;
  if (built.gloo) return CollectiveBackend::kGloo;
  throw std::invalid_argument(
      "no gang backend for " + Where(cuda_rank) + ": this ftworker was built without c10d's Gloo " +
      (cuda_rank ? "and NCCL backends" : "backend (NCCL sums CUDA tensors only)") +
      ", so it cannot train with world_size > 1");
}

const char* CollectiveBackendName(CollectiveBackend backend) {
  return backend == CollectiveBackend::kNccl ? "nccl" : "gloo";
}

}  // namespace ft::distributed
