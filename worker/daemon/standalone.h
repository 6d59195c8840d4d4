// `ftworker --spec job.json --out DIR`: train one job without a daemon, printing progress and
// writing its events to DIR/events.jsonl (common/events/event_log_appender.h).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "worker/distributed/distributed_options.h"

namespace ft::worker {

// `--rank R --world-size N --rendezvous HOST:PORT` (docs/distributed.md): this process is rank R
// of a gang of N standalone processes; rank 0 hosts c10d's store at HOST:PORT. Refuses a bad
// combination naming the flag.
absl::StatusOr<train::DistributedOptions> StandaloneGang(int rank, int world_size,
                                                         const std::string& rendezvous,
                                                         double timeout_seconds);

// Returns the process exit code: 0 succeeded, 1 failed, 2 bad spec, 4 cancelled.
// token_cache_dir "": no token cache; memory_budget_mb 0: auto_micro_batch's default budget.
// distributed: world_size 1 trains alone; otherwise every rank gets the same spec and --out (a
// shared folder), and rank 0 alone writes events.jsonl, checkpoints, the model and result.json.
// profile_trace_path "": no trace; otherwise LibTorch's operator trace of the training steps
// between the first and the second progress report is written there (worker/profile).
// cpu_replicas: train::TrainOptions::cpu_replicas.
int RunStandalone(const std::string& spec_path, const std::string& out_dir, int threads,
                  const std::string& token_cache_dir = "", double memory_budget_mb = 0,
                  const train::DistributedOptions& distributed = {},
                  const std::string& profile_trace_path = "", bool cpu_replicas = true);

}  // namespace ft::worker
