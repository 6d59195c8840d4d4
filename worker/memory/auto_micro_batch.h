// auto_micro_batch: the largest micro-batch whose forward + backward on the LONGEST training
// sequence fits a memory budget, found by running it.
//
// Candidates are 1, 2, 4, ... up to the limit (micro_batch_size when set, else the effective
// batch), and the limit itself. One throwaway model (same architecture, its own weights) runs,
// for each candidate m, a forward and backward pass on [m, longest] tokens (a fixed pattern), in
// the job's precision, with the task's loss (a causal LM's over every position's vocabulary
// logits; with packing `longest` is max_seq_length, what a packed row may fill), and the memory
// that pass needed is measured:
//   CPU:  peak RSS growth over the RSS before the first probe. The heap is trimmed (malloc_trim)
//         and VmHWM reset (writing 5 to /proc/self/clear_refs) before each probe, and VmHWM read
//         after it; this counts activations, gradients and allocator overhead, not the optimizer
//         state (twice the parameters for AdamW, the same for every micro-batch). Where VmHWM
//         cannot be reset, a probe is measured as its RSS right after the pass, which misses
//         memory freed during it: the budget is then honoured less strictly.
//   CUDA: the drop of free device memory (cudaMemGetInfo, found at run time) over the probes:
//         LibTorch's caching allocator keeps what a pass reserved, so the drop is its peak; an
//         out-of-memory error is a probe that does not fit.
// Before running 2m the need is predicted from the last two probes (memory grows linearly with
// the micro-batch); a prediction over the budget ends the search without allocating it. The
// budget: options.memory_budget_mb, else 50 % of MemAvailable (CPU) or 90 % of the free device
// memory (CUDA) at the time of the probe.
//
// The choice is then the largest divisor of the effective batch not above the largest candidate
// that fits, so that accumulation_steps = effective / micro exactly. Windows are formed from
// the effective batch (epoch_plan.h), so the choice changes no gradient. A job resumed from a
// checkpoint reuses the checkpoint's micro-batch instead of probing again, so that the resume is
// exact. Standard library types only in this header.
#pragma once

#include "common/models/model_config.h"
#include "worker/data/job_data.h"
#include "worker/data/pipeline_report.h"
#include "worker/train/train_job.h"

namespace ft::train {

// For options.auto_micro_batch: probes and returns the choice (automatic = true). Otherwise the
// options' own geometry. Options must have passed CheckOptions.
MicroBatchChoice ChooseMicroBatch(const TrainOptions& options, const models::ModelConfig& config,
                                  const JobData& data);

}  // namespace ft::train
