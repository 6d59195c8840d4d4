#include "ftd_server.h"

#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "health/readiness.h"
#include "util/grpc_limits.h"
#include "spdlog/spdlog.h"
#include "util/status_macros.h"

namespace ft {

std::string LocalAddressFor(const std::string& listen, int port) {
  const size_t colon = listen.rfind(':');
  std::string host = colon == std::string::npos ? listen : listen.substr(0, colon);
  if (host.empty() || host == "0.0.0.0" || host == "[::]" || host == "::") host = "127.0.0.1";
  return absl::StrCat(host, ":", port);
}

absl::StatusOr<std::unique_ptr<FtdServer>> FtdServer::Create(FtdOptions options) {
  std::unique_ptr<FtdServer> ftd(new FtdServer());
  ftd->options_ = options;
  std::error_code error;
  std::filesystem::create_directories(options.home, error);
  if (error) {
    return absl::FailedPreconditionError(
        absl::StrCat("--home: cannot create ", options.home, ": ", error.message()));
  }
  FT_ASSIGN_OR_RETURN(ftd->store_, store::JobStore::Open(options.home + "/ftd.db"));

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

  workers::WorkerPoolOptions pool_options;
  pool_options.binary = options.worker_binary;
  pool_options.count = options.local_workers;
  pool_options.log_dir = options.home + "/workers";
  pool_options.threads = options.worker_threads;
  pool_options.cache_dir = options.home + "/cache/tokens";
  ftd->pool_ = std::make_unique<workers::WorkerPool>(pool_options);

  sched::JobManagerOptions manager_options;
  manager_options.home = options.home;
  manager_options.heartbeat_interval = options.heartbeat_interval;
  manager_options.lease_timeout = options.lease_timeout;
  manager_options.max_queued_jobs = options.max_queued_jobs;
  manager_options.max_attempts = options.max_job_attempts;
  FT_ASSIGN_OR_RETURN(ftd->manager_, sched::JobManager::Create(
                                         manager_options, ftd->store_.get(), &ftd->hub_,
                                         &ftd->clock_, ftd->metrics_.get(), ftd->pool_.get()));
  FT_RETURN_IF_ERROR(ftd->manager_->RecoverAfterRestart());
  FT_ASSIGN_OR_RETURN(auto counts, ftd->store_->CountByState());
  ftd->metrics_->SetJobCounts(counts);

  ftd->finetune_service_ = std::make_unique<api::FinetuneServiceImpl>(
      ftd->manager_.get(), ftd->store_.get(), &ftd->hub_, ftd->metrics_.get());
  ftd->worker_service_ =
      std::make_unique<api::WorkerServiceImpl>(ftd->manager_.get(), ftd->metrics_.get());

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, grpc::InsecureServerCredentials(), &ftd->port_);
  builder.RegisterService(ftd->finetune_service_.get());
  builder.RegisterService(ftd->worker_service_.get());
  rpc::ApplyServerLimits(builder);
  ftd->server_ = builder.BuildAndStart();
  if (ftd->server_ == nullptr || ftd->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("--listen: cannot listen on ", options.listen, " (address in use?)"));
  }
  // NOT_SERVING until the housekeeping loop has seen the store answer and a worker connect.
  ftd->server_->GetHealthCheckService()->SetServingStatus("ft.v1.FinetuneService", false);
  ftd->server_->GetHealthCheckService()->SetServingStatus(false);

  // Workers start once the API listens, since they connect to it.
  FT_RETURN_IF_ERROR(
      ftd->pool_->Start(ftd->manager_.get(), LocalAddressFor(options.listen, ftd->port_)));
  ftd->housekeeping_ = std::thread([raw = ftd.get()] { raw->HousekeepingLoop(); });
  spdlog::info("ftd listening on {} (API) and {} (metrics), home {}, {} local worker(s)",
               LocalAddressFor(options.listen, ftd->port_),
               LocalAddressFor(options.metrics_listen, ftd->metrics_port_), options.home,
               options.local_workers);
  return ftd;
}

void FtdServer::HousekeepingLoop() {
  bool serving = false;
  absl::Status store_status;
  absl::Time last_slow_check = absl::InfinitePast();
  metrics::DaemonSnapshot snapshot;
  while (!stopping_) {
    manager_->Tick();
    metrics_->RemoveExpiredJobSeries();
    const absl::Time now = clock_.Now();
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
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  spdlog::debug("gRPC server stopped");
  if (pool_) pool_->Stop();
  spdlog::debug("workers stopped");
  if (housekeeping_.joinable()) housekeeping_.join();
  spdlog::info("ftd stopped");
}

FtdServer::~FtdServer() { Shutdown(); }

}  // namespace ft
