// What the data pipeline did for a job, for the log and result.json ("pipeline"): the token cache,
// the micro-batch choice, padding, and how long the loop waited for prepared batches.
// Standard library only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "worker/data/job_data.h"

namespace ft::train {

// One probe of the auto micro-batch search (auto_micro_batch.h).
struct MicroBatchProbe {
  int64_t micro_batch_size = 0;
  double peak_mb = 0;     // memory growth measured (or predicted, when !measured)
  bool measured = false;  // false: predicted from the smaller probes and not run
  bool fits = false;
};

struct MicroBatchChoice {
  bool automatic = false;  // auto_micro_batch
  int64_t micro_batch_size = 0;
  int64_t accumulation_steps = 0;
  int64_t effective_batch_size = 0;
  // The rest is set only when automatic.
  int64_t longest_sequence = 0;  // tokens; every probe ran at this length
  int64_t limit = 0;             // largest micro-batch considered
  double budget_mb = 0;
  std::string budget_source;  // "--memory-budget-mb", "50% of MemAvailable", ...
  std::string method;         // how memory was measured
  std::string note;           // e.g. "reused from the checkpoint", "budget below micro-batch 1"
  std::vector<MicroBatchProbe> probes;

  // One line for the job's log.
  std::string Describe() const;
};

struct PipelineReport {
  TokenCacheReport token_cache;
  MicroBatchChoice micro_batch;
  bool group_by_length = false;
  // Over the training micro-batches this run collated (not counting an earlier attempt's).
  int64_t tokens = 0;        // real tokens
  int64_t padded_slots = 0;  // tokens + padding
  // The same windows' tokens + padding without packing (each example its own row); equals
  // padded_slots when the job does not pack.
  int64_t unpacked_padded_slots = 0;
  bool packing = false;
  int prefetch_depth = 0;    // windows prepared ahead on the background thread
  double prefetch_wait_seconds = 0;  // time the loop waited for a window's batches
  int64_t out_of_memory_retries = 0;  // CUDA: windows retried with half the micro-batch
};

// (slots - tokens) / slots, 0 for no slots.
double PaddingFraction(int64_t tokens, int64_t slots);

// One log line: the padding computed, and with packing what it would have been without.
std::string DescribePadding(const PipelineReport& report);

// The "pipeline" object of result.json, as JSON text.
std::string PipelineReportJson(const PipelineReport& report);

}  // namespace ft::train
