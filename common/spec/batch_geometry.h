// How many examples a job's optimizer step takes and how they are split into micro-batches:
// micro_batch_size, accumulation_steps, effective_batch_size and auto_micro_batch resolved into
// one consistent geometry. Shared by validation (ftd, ftworker) and spec_to_options, so that both
// apply the same rules:
//   - effective_batch_size 0: micro_batch_size x accumulation_steps, both required.
//   - effective_batch_size E: accumulation_steps may be 0 (derived: E / micro_batch_size, which
//     must divide evenly) or must equal it.
//   - world_size N > 1: each of the N ranks takes micro_batch_size x accumulation_steps of every
//     step, so effective_batch_size = N x micro x accumulation (and E / (N x micro) derives it).
//   - auto_micro_batch: micro_batch_size is an upper limit (0: none) and the worker picks the
//     micro-batch; E (or micro x accumulation) is required; accumulation is derived by the worker.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "ft/v1/job.pb.h"

namespace ft::spec {

struct BatchGeometry {
  uint32_t micro_batch_size = 0;    // with auto_micro_batch: the upper limit, 0 for none
  uint32_t accumulation_steps = 0;  // 0 with auto_micro_batch: the worker derives it
  uint64_t effective_batch_size = 0;
  bool auto_micro_batch = false;
};

// INVALID_ARGUMENT naming every field involved ("spec.effective_batch_size ...") when the fields
// are out of bounds or disagree; several problems are joined with "; ".
absl::StatusOr<BatchGeometry> ResolveBatchGeometry(const ft::v1::JobSpec& spec);

}  // namespace ft::spec
