// Checks a JobSpec before it is queued: field bounds, the model name, the dataset files and their
// columns. No Torch: ftd runs it in SubmitJob, ftworker again before training.
#pragma once

#include "absl/status/status.h"
#include "ft/v1/job.pb.h"

namespace ft::spec {

// `spec` must have its defaults applied (WithDefaults). Returns OK, or:
//  INVALID_ARGUMENT  a field out of bounds, an unknown model/optimizer/format, a path that is not a
//                    regular file (or folder for aclimdb), a missing column, a model folder
//                    whose config.json is not a usable BloomConfig;
//  NOT_FOUND         a dataset file, a model folder, or its config.json or model.safetensors that
//                    does not exist.
// The message names every offending field ("spec.micro_batch_size: must be 1..4096, got 0").
absl::Status ValidateSpec(const ft::v1::JobSpec& spec);

}  // namespace ft::spec
