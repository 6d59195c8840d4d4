// How many examples one optimizer step takes: every rank's micro-batches of the window. The one
// place that knows the product, so that planning, step counts, checks and result.json agree.
#pragma once

#include <algorithm>
#include <cstdint>

#include "worker/train/train_job.h"

namespace ft::train {

inline int64_t ExamplesPerStep(const TrainOptions& options) {
  return options.micro_batch_size * options.accumulation_steps *
         std::max(1, options.distributed.world_size);
}

}  // namespace ft::train
