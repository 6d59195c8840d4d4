// ftworker's daemon mode: lease jobs from ftd one at a time and train them.
#pragma once

#include <atomic>
#include <string>

#include "common/net/ftd_channel.h"
#include "ft/v1/worker_service.grpc.pb.h"

namespace ft::worker {

struct WorkerLoopOptions {
  std::string server;     // ftd's address
  std::string worker_id;  // unique per worker
  std::string device = "cpu";
  int threads = 0;         // intra-op threads; 0: all cores
  std::string datasets_dir;     // named datasets' cache (remote_inputs.h)
  std::string token_cache_dir;  // tokenized splits, shared by jobs; "": none (token_cache.h)
  double memory_budget_mb = 0;  // auto_micro_batch's budget; 0: half of MemAvailable
  int idle_poll_ms = 250;  // how often an idle worker asks for work
  // Worker token (role worker; ftd's local workers get $FT_WORKER_TOKEN) and TLS settings.
  net::ChannelSecurity security;
};

class WorkerLoop {
 public:
  WorkerLoop(WorkerLoopOptions options, const std::atomic<bool>* shutdown);
  // Runs until `shutdown` is set. Returns the process exit code.
  int Run();

 private:
  // Trains one leased job and reports its outcome (unless the lease was lost).
  void RunJob(const ft::v1::AcquireJobResponse& lease);
  void Complete(const ft::v1::AcquireJobResponse& lease, ft::v1::JobState state,
                const std::string& error);

  const WorkerLoopOptions options_;
  const std::atomic<bool>* shutdown_;
  std::unique_ptr<ft::v1::WorkerService::Stub> stub_;
};

}  // namespace ft::worker
