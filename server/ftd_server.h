// Assembles ftd: the SQLite store, the job manager, the gRPC services, the metrics endpoint and
// the local worker processes.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "prometheus/exposer.h"
#include "prometheus/registry.h"
#include "server/api/finetune_service.h"
#include "server/api/watcher_limits.h"
#include "server/api/worker_service.h"
#include "server/artifacts/artifact_catalog.h"
#include "server/auth/authenticator.h"
#include "server/console/console_server.h"
#include "server/housekeeping/retention.h"
#include "server/metrics/housekeeping_metrics.h"
#include "server/metrics/server_metrics.h"
#include "server/metrics/webhook_metrics.h"
#include "server/notify/webhooks.h"
#include "server/sched/clock.h"
#include "server/sched/event_hub.h"
#include "server/sched/job_manager.h"
#include "server/store/job_folders.h"
#include "server/store/job_store.h"
#include "server/workers/worker_pool.h"

namespace ft {

struct FtdOptions {
  std::string listen = "127.0.0.1:50051";         // gRPC API (port 0: pick a free one)
  std::string metrics_listen = "127.0.0.1:9464";  // Prometheus /metrics (port 0: pick one)
  std::string home;                               // ftd.db, jobs/, workers/ live here
  std::string worker_binary;                      // ftworker
  int local_workers = 1;
  // CUDA_VISIBLE_DEVICES of each local worker (local_worker_gpus.h); empty: ftd's own. When set,
  // one entry per local worker.
  std::vector<std::string> local_worker_gpus;
  int worker_threads = 0;  // intra-op threads per local worker; 0: the worker's default
  int worker_nice = 10;    // niceness added to local workers (WorkerPoolOptions::nice)
  absl::Duration metrics_grace = absl::Seconds(60);
  absl::Duration heartbeat_interval = absl::Seconds(1);
  absl::Duration lease_timeout = absl::Seconds(15);
  int max_queued_jobs = 10000;
  uint32_t max_job_attempts = 3;  // see JobManagerOptions::max_attempts

  // Security (docs/daemon.md "Security"). Either a token file or insecure_no_auth (loopback only).
  std::string token_file;         // `TOKEN USER ROLE` lines (auth/token_table.h)
  bool insecure_no_auth = false;  // no authentication; refused on a non-loopback --listen
  std::string tls_cert;           // PEM certificate chain; with tls_key: the API speaks TLS only
  std::string tls_key;
  std::string tls_client_ca;  // PEM CA: clients must present a certificate it signed
  // Datasets and model folders only from these folders; empty: <home>/data (created).
  std::vector<std::string> data_roots;

  // Resource limits; 0 turns one off.
  uint64_t max_dataset_bytes = 10ull << 30;  // per dataset file or folder
  uint32_t max_seq_length = 4096;            // spec.max_seq_length this server accepts
  int max_queued_jobs_per_user = 100;
  int max_watchers = 1024;          // open WatchJob streams, in total
  int max_watchers_per_job = 256;   // and per job
  int max_request_bytes = 4 << 20;  // largest request message

  // The web console and its JSON API (docs/console.md): HOST:PORT, empty: off.
  std::string console_listen;
  int console_max_streams = 16;  // open event streams of the console (each holds a thread)

  // Housekeeping: retention of ended jobs, applied every retention_interval.
  housekeeping::RetentionOptions retention;
  absl::Duration retention_interval = absl::Seconds(60);

  // Webhooks on job state changes (docs/webhooks.md).
  notify::WebhookOptions webhooks;
};

class FtdServer {
 public:
  static absl::StatusOr<std::unique_ptr<FtdServer>> Create(FtdOptions options);
  ~FtdServer();

  int port() const { return port_; }
  int metrics_port() const { return metrics_port_; }
  int console_port() const { return console_ ? console_->port() : 0; }
  // Stops accepting calls, stops the workers and the housekeeping thread. Idempotent.
  void Shutdown();
  // Re-reads the token file now (SIGHUP); a file that does not parse keeps the old tokens.
  absl::Status ReloadTokens();

 private:
  FtdServer() = default;
  void HousekeepingLoop();

  FtdOptions options_;
  sched::RealClock clock_;
  // Before store_, which calls its tap; stopped in Shutdown.
  std::unique_ptr<notify::Webhooks> webhooks_;
  std::unique_ptr<store::JobStore> store_;
  std::unique_ptr<store::JobFolders> job_folders_;
  sched::EventHub hub_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::unique_ptr<metrics::ServerMetrics> metrics_;
  std::unique_ptr<metrics::HousekeepingMetrics> housekeeping_metrics_;
  std::unique_ptr<metrics::WebhookMetrics> webhook_metrics_;
  std::unique_ptr<auth::Authenticator> auth_;
  std::unique_ptr<api::WatcherLimits> watchers_;
  std::unique_ptr<housekeeping::Retention> retention_;
  std::unique_ptr<workers::WorkerPool> pool_;
  std::unique_ptr<sched::JobManager> manager_;
  // The write handlers' threads: after manager_ (which they call), before the services and
  // server_, so that it joins only once the server has shut down.
  std::unique_ptr<api::BlockingCallPool> calls_;
  // The catalog before the pool whose tasks use it, so that the pool joins first.
  std::unique_ptr<artifacts::ArtifactCatalog> artifacts_;
  std::unique_ptr<api::BlockingCallPool> artifact_io_;
  std::unique_ptr<api::FinetuneServiceImpl> finetune_service_;
  std::unique_ptr<api::WorkerServiceImpl> worker_service_;
  std::unique_ptr<grpc::Server> server_;
  // Calls server_ through its in-process channel: stopped before server_ shuts down.
  std::unique_ptr<console::ConsoleServer> console_;
  int port_ = 0;
  int metrics_port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread housekeeping_;
};

// The worker address for a listen address: a wildcard host becomes loopback.
std::string LocalAddressFor(const std::string& listen, int port);

// True for a loopback host (127.x.x.x, ::1, localhost) or a unix: socket.
bool IsLoopbackListen(const std::string& listen);

}  // namespace ft
