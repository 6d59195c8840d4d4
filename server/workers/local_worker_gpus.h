// `ftd --local-worker-gpus 0,1,2,3`: one GPU per local worker. Worker i is exec'd with
// CUDA_VISIBLE_DEVICES set to the i-th entry, so that it sees that GPU alone, as cuda:0; the
// worker itself needs no flag (as in a Kubernetes pod that requests one GPU).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace ft::workers {

// Comma-separated entries, each a device index ("3") or a GPU or MIG UUID as nvidia-smi -L
// prints it ("GPU-8f...", "MIG-..."); no entry twice. INVALID_ARGUMENT names the flag and the
// entry.
absl::StatusOr<std::vector<std::string>> ParseLocalWorkerGpus(const std::string& list);

// The number of local workers for `requested` (--local-workers; -1: not given) and `gpus`: one
// per GPU when the count was not given; INVALID_ARGUMENT when both are given and differ.
absl::StatusOr<int> LocalWorkerCount(int requested, const std::vector<std::string>& gpus);

}  // namespace ft::workers
