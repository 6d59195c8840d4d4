// Assembles ftd: the SQLite store, the job manager, the gRPC services, the metrics endpoint and
// the local worker processes.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "api/finetune_service.h"
#include "api/worker_service.h"
#include "grpcpp/grpcpp.h"
#include "metrics/server_metrics.h"
#include "prometheus/exposer.h"
#include "prometheus/registry.h"
#include "sched/clock.h"
#include "sched/event_hub.h"
#include "sched/job_manager.h"
#include "store/job_store.h"
#include "workers/worker_pool.h"

namespace ft {

struct FtdOptions {
  std::string listen = "127.0.0.1:50051";         // gRPC API (port 0: pick a free one)
  std::string metrics_listen = "127.0.0.1:9464";  // Prometheus /metrics (port 0: pick one)
  std::string home;                               // ftd.db, jobs/, workers/ live here
  std::string worker_binary;                      // ftworker
  int local_workers = 1;
  int worker_threads = 0;  // intra-op threads per local worker; 0: the worker's default
  absl::Duration metrics_grace = absl::Seconds(60);
  absl::Duration heartbeat_interval = absl::Seconds(1);
  absl::Duration lease_timeout = absl::Seconds(15);
  int max_queued_jobs = 10000;
  uint32_t max_job_attempts = 3;  // see JobManagerOptions::max_attempts
};

class FtdServer {
 public:
  static absl::StatusOr<std::unique_ptr<FtdServer>> Create(FtdOptions options);
  ~FtdServer();

  int port() const { return port_; }
  int metrics_port() const { return metrics_port_; }
  // Stops accepting calls, stops the workers and the housekeeping thread. Idempotent.
  void Shutdown();

 private:
  FtdServer() = default;
  void HousekeepingLoop();

  FtdOptions options_;
  sched::RealClock clock_;
  std::unique_ptr<store::JobStore> store_;
  sched::EventHub hub_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::unique_ptr<metrics::ServerMetrics> metrics_;
  std::unique_ptr<workers::WorkerPool> pool_;
  std::unique_ptr<sched::JobManager> manager_;
  std::unique_ptr<api::FinetuneServiceImpl> finetune_service_;
  std::unique_ptr<api::WorkerServiceImpl> worker_service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  int metrics_port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread housekeeping_;
};

// The worker address for a listen address: a wildcard host becomes loopback.
std::string LocalAddressFor(const std::string& listen, int port);

}  // namespace ft
