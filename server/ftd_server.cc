#include "server/ftd_server.h"

#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "server/housekeeping/disk_usage.h"
#include "server/housekeeping/token_cache_trim.h"
#include "common/net/ftd_channel.h"
#include "server/health/readiness.h"
#include "server/workers/local_worker_gpus.h"
#include "common/util/grpc_limits.h"
#include "spdlog/spdlog.h"
#include "common/util/status_macros.h"

namespace ft {

std::string LocalAddressFor(const std::string& listen, int port) {
  const size_t colon = listen.rfind(':');
  std::string host = colon == std::string::npos ? listen : listen.substr(0, colon);
  if (host.empty() || host == "0.0.0.0" || host == "[::]" || host == "::") host = "127.0.0.1";
  return absl::StrCat(host, ":", port);
}

bool IsLoopbackListen(const std::string& listen) {
  if (absl::StartsWith(listen, "unix:")) return true;
  const size_t colon = listen.rfind(':');
  const std::string host = colon == std::string::npos ? listen : listen.substr(0, colon);
  return host == "localhost" || host == "[::1]" || host == "::1" || absl::StartsWith(host, "127.");
}

absl::StatusOr<std::unique_ptr<FtdServer>> FtdServer::Create(FtdOptions options) {
  std::unique_ptr<FtdServer> ftd(new FtdServer());
  if (options.insecure_no_auth && !options.token_file.empty()) {
    return absl::InvalidArgumentError("give --token-file or --insecure-no-auth, not both");
  }
  if (options.insecure_no_auth && !IsLoopbackListen(options.listen)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--insecure-no-auth: refusing to serve without authentication on ", options.listen,
        "; listen on a loopback address (127.0.0.1:PORT) or give --token-file"));
  }
  if (options.insecure_no_auth && !options.console_listen.empty() &&
      !IsLoopbackListen(options.console_listen)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--insecure-no-auth: refusing to serve the console without authentication on ",
        options.console_listen, "; give --console-listen a loopback address or --token-file"));
  }
  if (options.tls_cert.empty() != options.tls_key.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key go together");
  }
  if (!options.tls_client_ca.empty() && options.tls_cert.empty()) {
    return absl::InvalidArgumentError("--tls-client-ca needs --tls-cert and --tls-key");
  }
  std::error_code error;
  std::filesystem::create_directories(options.home, error);
  if (error) {
    return absl::FailedPreconditionError(
        absl::StrCat("--home: cannot create ", options.home, ": ", error.message()));
  }
  options.home = std::filesystem::absolute(options.home).lexically_normal().string();
  // Job folders hold other people's data and models: owner (and group) only.
  std::filesystem::create_directories(options.home + "/jobs", error);
  chmod((options.home + "/jobs").c_str(), 0750);
  if (options.data_roots.empty()) {
    options.data_roots.push_back(options.home + "/data");
    std::filesystem::create_directories(options.data_roots.back(), error);
  }
  FT_ASSIGN_OR_RETURN(std::vector<std::string> data_roots,
                      sched::ResolveDataRoots(options.data_roots));
  ftd->options_ = options;

  // Local workers prove themselves with a secret made fresh for each start, given in their exec
  // environment only (WorkerPoolOptions::environment).
  const std::string worker_secret = auth::NewWorkerSecret();
  auth::AuthenticatorOptions auth_options;
  auth_options.token_file = options.token_file;
  auth_options.insecure = options.insecure_no_auth;
  auth_options.local_worker_secret = worker_secret;
  FT_ASSIGN_OR_RETURN(ftd->auth_, auth::Authenticator::Create(auth_options));
  if (options.insecure_no_auth) {
    spdlog::warn(
        "--insecure-no-auth: ftd accepts every call on {} without a token; anyone who "
        "can reach this address can submit, see and cancel every job",
        options.listen);
  }
  ftd->watchers_ =
      std::make_unique<api::WatcherLimits>(options.max_watchers, options.max_watchers_per_job);
  FT_ASSIGN_OR_RETURN(ftd->webhooks_, notify::Webhooks::Create(options.webhooks));
  FT_ASSIGN_OR_RETURN(ftd->store_,
                      store::JobStore::Open(options.home + "/ftd.db", ftd->webhooks_->tap()));

  ftd->registry_ = std::make_shared<prometheus::Registry>();
  try {
    ftd->exposer_ = std::make_unique<prometheus::Exposer>(options.metrics_listen);
  } catch (const std::exception& e) {
    return absl::UnavailableError(absl::StrCat("--metrics-listen: cannot listen on ",
                                               options.metrics_listen, ": ", e.what()));
  }
  ftd->exposer_->RegisterCollectable(ftd->registry_);
  const auto ports = ftd->exposer_->GetListeningPorts();
  ftd->metrics_port_ = ports.empty() ? 0 : ports.front();
  ftd->metrics_ = std::make_unique<metrics::ServerMetrics>(*ftd->registry_, &ftd->clock_,
                                                           options.metrics_grace);
  ftd->housekeeping_metrics_ = std::make_unique<metrics::HousekeepingMetrics>(*ftd->registry_);
  ftd->webhook_metrics_ = std::make_unique<metrics::WebhookMetrics>(*ftd->registry_);
  // Deliveries left by an earlier run start at once; new ones follow the job log.
  ftd->webhooks_->Start(ftd->store_.get(), &ftd->clock_, ftd->webhook_metrics_.get());

  workers::WorkerPoolOptions pool_options;
  pool_options.binary = options.worker_binary;
  FT_ASSIGN_OR_RETURN(pool_options.count,
                      workers::LocalWorkerCount(options.local_workers, options.local_worker_gpus));
  pool_options.gpus = options.local_worker_gpus;
  pool_options.log_dir = options.home + "/workers";
  pool_options.threads = options.worker_threads;
  pool_options.nice = options.worker_nice;
  pool_options.cache_dir = options.home + "/cache/tokens";
  pool_options.environment["FT_WORKER_TOKEN"] = worker_secret;
  // OpenMP's default spin-waiting made training ~10x slower with two intra-op threads on a busy
  // 2-core machine; passive waiting costs little when it is idle. A value ftd was started with
  // is kept.
  if (std::getenv("OMP_WAIT_POLICY") == nullptr) {
    pool_options.environment["OMP_WAIT_POLICY"] = "PASSIVE";
  }
  ftd->pool_ = std::make_unique<workers::WorkerPool>(pool_options);

  FT_ASSIGN_OR_RETURN(ftd->job_folders_, store::JobFolders::Create(options.home));
  sched::JobManagerOptions manager_options;
  manager_options.heartbeat_interval = options.heartbeat_interval;
  manager_options.lease_timeout = options.lease_timeout;
  manager_options.max_queued_jobs = options.max_queued_jobs;
  manager_options.max_attempts = options.max_job_attempts;
  manager_options.limits.data_roots = data_roots;
  manager_options.limits.max_dataset_bytes = options.max_dataset_bytes;
  manager_options.limits.max_seq_length = options.max_seq_length;
  manager_options.limits.max_queued_jobs_per_user = options.max_queued_jobs_per_user;
  manager_options.limits.webhook_policy = options.webhooks.policy;
  FT_ASSIGN_OR_RETURN(
      ftd->manager_,
      sched::JobManager::Create(manager_options, ftd->store_.get(), ftd->job_folders_.get(),
                                &ftd->hub_, &ftd->clock_, ftd->metrics_.get(), ftd->pool_.get()));
  FT_RETURN_IF_ERROR(ftd->manager_->RecoverAfterRestart());
  FT_ASSIGN_OR_RETURN(auto counts, ftd->store_->CountByState());
  ftd->metrics_->SetJobCounts(counts);

  ftd->retention_ = std::make_unique<housekeeping::Retention>(
      options.retention, options.home, ftd->store_.get(), ftd->manager_.get(), &ftd->clock_);

  // Enough threads that many writers wait for one group fsync together (store/wal_sync.h).
  constexpr int kBlockingCallThreads = 16;
  ftd->calls_ = std::make_unique<api::BlockingCallPool>(kBlockingCallThreads);
  // Opening and hashing artifacts reads whole files: threads of their own, so that downloads
  // never hold up the writes above.
  constexpr int kArtifactIoThreads = 4;
  ftd->artifacts_ = std::make_unique<artifacts::ArtifactCatalog>(ftd->job_folders_.get());
  ftd->artifact_io_ = std::make_unique<api::BlockingCallPool>(kArtifactIoThreads);
  ftd->finetune_service_ = std::make_unique<api::FinetuneServiceImpl>(
      ftd->manager_.get(), ftd->store_.get(), &ftd->hub_, ftd->metrics_.get(), ftd->auth_.get(),
      ftd->watchers_.get(), ftd->calls_.get(), ftd->artifacts_.get(), ftd->artifact_io_.get());
  ftd->worker_service_ = std::make_unique<api::WorkerServiceImpl>(
      ftd->manager_.get(), ftd->metrics_.get(), ftd->auth_.get(), ftd->calls_.get());

  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
  // With TLS, local workers reach ftd on a unix socket in the home folder instead (they could not
  // check the certificate's name against a loopback address); they still need their token.
  std::string worker_socket;
  if (!options.tls_cert.empty()) {
    grpc::SslServerCredentialsOptions ssl;
    FT_ASSIGN_OR_RETURN(std::string cert, net::ReadSecretFile(options.tls_cert, "--tls-cert"));
    FT_ASSIGN_OR_RETURN(std::string key, net::ReadSecretFile(options.tls_key, "--tls-key"));
    ssl.pem_key_cert_pairs.push_back({std::move(key), std::move(cert)});
    if (!options.tls_client_ca.empty()) {
      FT_ASSIGN_OR_RETURN(ssl.pem_root_certs,
                          net::ReadSecretFile(options.tls_client_ca, "--tls-client-ca"));
      ssl.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
    }
    credentials = grpc::SslServerCredentials(ssl);
    worker_socket = options.home + "/worker.sock";
    if (worker_socket.size() > 100) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--home: ", options.home, " is too long for the local workers' unix socket with TLS"));
    }
    std::filesystem::remove(worker_socket, error);
  }

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, credentials, &ftd->port_);
  if (!worker_socket.empty()) {
    builder.AddListeningPort("unix:" + worker_socket, grpc::InsecureServerCredentials());
  }
  builder.RegisterService(ftd->finetune_service_.get());
  builder.RegisterService(ftd->worker_service_.get());
  rpc::ApplyServerLimits(builder);
  // Larger requests are refused by gRPC with RESOURCE_EXHAUSTED ("Received message larger than
  // max"); this server's own bound, over the shared default.
  builder.SetMaxReceiveMessageSize(options.max_request_bytes);
  ftd->server_ = builder.BuildAndStart();
  if (ftd->server_ == nullptr || ftd->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("--listen: cannot listen on ", options.listen, " (address in use?)"));
  }
  // NOT_SERVING until the housekeeping loop has seen the store answer and a worker connect.
  ftd->server_->GetHealthCheckService()->SetServingStatus("ft.v1.FinetuneService", false);
  ftd->server_->GetHealthCheckService()->SetServingStatus(false);

  if (!options.console_listen.empty()) {
    console::ConsoleOptions console_options;
    console_options.listen = options.console_listen;
    console_options.streams.max_streams = options.console_max_streams;
    grpc::ChannelArguments channel_args;
    channel_args.SetMaxReceiveMessageSize(rpc::kMaxMessageBytes);
    FT_ASSIGN_OR_RETURN(ftd->console_,
                        console::ConsoleServer::Create(
                            console_options, ftd->server_->InProcessChannel(channel_args)));
  }

  // Workers start once the API listens, since they connect to it.
  FT_RETURN_IF_ERROR(ftd->pool_->Start(
      ftd->manager_.get(), worker_socket.empty() ? LocalAddressFor(options.listen, ftd->port_)
                                                 : "unix:" + worker_socket));
  ftd->housekeeping_ = std::thread([raw = ftd.get()] { raw->HousekeepingLoop(); });
  spdlog::info(
      "ftd listening on {} (API{}, {}) and {} (metrics){}, home {}, data roots {}, {} local "
      "worker(s)",
      LocalAddressFor(options.listen, ftd->port_), worker_socket.empty() ? "" : " over TLS",
      options.insecure_no_auth ? "no authentication" : "bearer tokens",
      LocalAddressFor(options.metrics_listen, ftd->metrics_port_),
      ftd->console_ ? absl::StrCat(" and http://",
                                   LocalAddressFor(options.console_listen, ftd->console_port()),
                                   "/ (console)")
                    : "",
      options.home,
      absl::StrJoin(data_roots, ", "), options.local_workers);
  return ftd;
}

absl::Status FtdServer::ReloadTokens() { return auth_->Reload(/*force=*/true); }

void FtdServer::HousekeepingLoop() {
  bool serving = false;
  absl::Status store_status;
  absl::Time last_slow_check = absl::InfinitePast();
  metrics::DaemonSnapshot snapshot;
  absl::Time next_token_check = absl::Now();
  absl::Time next_retention = absl::Now();
  while (!stopping_) {
    manager_->Tick();
    metrics_->RemoveExpiredJobSeries();
    const absl::Time now = clock_.Now();
    if (absl::Now() >= next_token_check) {
      next_token_check = absl::Now() + absl::Seconds(1);
      if (absl::Status status = auth_->Reload(/*force=*/false); !status.ok()) {
        spdlog::error("token file not reloaded, the previous tokens stay in force: {}",
                      std::string(status.message()));
      }
    }
    if (absl::Now() >= next_retention) {
      next_retention = absl::Now() + options_.retention_interval;
      absl::StatusOr<housekeeping::RetentionResult> result = retention_->RunOnce();
      if (!result.ok()) {
        spdlog::warn("retention pass failed: {}", result.status().ToString());
      } else {
        housekeeping_metrics_->OnRetention(result->jobs_deleted, result->checkpoints_removed);
      }
      const housekeeping::TokenCacheTrim trim = housekeeping::TrimTokenCache(
          options_.home + "/cache/tokens", options_.retention.token_cache_budget_bytes);
      if (trim.entries_removed > 0) {
        spdlog::info("token cache: removed {} least recently used entries ({} bytes) to stay "
                     "within --token-cache-budget-mb; {} bytes kept",
                     trim.entries_removed, trim.bytes_freed, trim.bytes_kept);
      }
      housekeeping_metrics_->OnTokenCacheTrim(trim.entries_removed, trim.bytes_kept);
      housekeeping_metrics_->SetHomeDiskBytes(housekeeping::DiskUsage(options_.home));
    }
    if (now - last_slow_check >= absl::Seconds(2)) {  // a store query and a statvfs
      last_slow_check = now;
      store_status = store_->CountByState().status();
      std::error_code error;
      const std::filesystem::space_info space = std::filesystem::space(options_.home, error);
      if (!error) {
        snapshot.home_filesystem_avail_bytes = space.available;
        snapshot.home_filesystem_size_bytes = space.capacity;
      }
    }
    snapshot.local_workers_alive = pool_->alive();
    snapshot.workers_connected = manager_->workers().Connected(now, options_.lease_timeout);
    snapshot.lease_heartbeat_ages = manager_->LeaseHeartbeatAges();
    const health::Readiness readiness =
        health::Evaluate({store_status, snapshot.workers_connected});
    snapshot.serving = readiness.serving;
    metrics_->SetDaemon(snapshot);
    if (readiness.serving != serving && !stopping_) {
      serving = readiness.serving;
      server_->GetHealthCheckService()->SetServingStatus(serving);
      if (serving) {
        spdlog::info("health: SERVING");
      } else {
        spdlog::warn("health: NOT_SERVING ({})", readiness.reason);
      }
    }
    absl::SleepFor(absl::Milliseconds(200));
  }
}

void FtdServer::Shutdown() {
  if (stopping_.exchange(true)) return;
  spdlog::info("ftd shutting down");
  // Workers first, while the API still serves: each checkpoints its job and delivers its last
  // events before it exits (SIGTERM; SIGKILL after the pool's grace period). The job stays
  // RUNNING in the store and is re-queued, to resume from that checkpoint, when ftd starts again.
  if (pool_) pool_->Stop();
  spdlog::debug("workers stopped");
  // Before the gRPC server, whose in-process channel its handlers call.
  if (console_) console_->Stop();
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  spdlog::debug("gRPC server stopped");
  if (housekeeping_.joinable()) housekeeping_.join();
  // Last: the workers' final events above may still have added deliveries. Those not sent by
  // now stay in the outbox for the next start.
  if (webhooks_) webhooks_->Stop();
  spdlog::info("ftd stopped");
}

FtdServer::~FtdServer() { Shutdown(); }

}  // namespace ft
