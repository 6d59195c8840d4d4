// ftworker's daemon mode: lease jobs from ftd one at a time and train them. ftd is reached
// through a WorkerLink and the training core through a TrainFunction, both injected, so that
// the loop's decisions (what to report, when to give a job up) are tested without gRPC or
// LibTorch.
#pragma once

#include <atomic>
#include <functional>
#include <string>

#include "common/net/ftd_channel.h"
#include "ft/v1/worker_service.pb.h"
#include "worker/daemon/worker_link.h"
#include "worker/train/train_job.h"

namespace ft::worker {

struct WorkerLoopOptions {
  std::string server;     // ftd's address
  std::string worker_id;  // unique per worker
  std::string device = "cpu";
  int threads = 0;         // intra-op threads; 0: all cores
  bool cpu_replicas = true;  // train::TrainOptions::cpu_replicas
  std::string datasets_dir;     // named datasets' cache (remote_inputs.h)
  std::string token_cache_dir;  // tokenized splits, shared by jobs; "": none (token_cache.h)
  double memory_budget_mb = 0;  // auto_micro_batch's budget; 0: half of MemAvailable
  int idle_poll_ms = 250;  // how often an idle worker asks for work
  // Where the other ranks of a data-parallel job reach this worker when it is rank 0 (the c10d
  // store binds every interface; this is the address ftd hands out).
  std::string advertise_host = "127.0.0.1";
  // Worker token (role worker; ftd's local workers get $FT_WORKER_TOKEN) and TLS settings, for
  // the link to `server` (grpc_worker_link.h).
  net::ChannelSecurity security;
};

// Trains one job (train::RunTrainingJob in ftworker).
using TrainFunction =
    std::function<train::TrainOutcome(const train::TrainOptions&, train::TrainObserver*)>;

class WorkerLoop {
 public:
  // `link` is not owned and must outlive the loop.
  WorkerLoop(WorkerLoopOptions options, WorkerLink* link, TrainFunction train,
             const std::atomic<bool>* shutdown);
  // Runs until `shutdown` is set. Returns the process exit code.
  int Run();

 private:
  // Trains one leased job and reports its outcome (unless the lease was lost).
  void RunJob(const ft::v1::AcquireJobResponse& lease);
  void Complete(const ft::v1::AcquireJobResponse& lease, ft::v1::JobState state,
                const std::string& error);

  const WorkerLoopOptions options_;
  WorkerLink* const link_;
  const TrainFunction train_;
  const std::atomic<bool>* shutdown_;
};

}  // namespace ft::worker
