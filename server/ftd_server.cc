#include "ftd_server.h"

#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
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
  builder.SetMaxReceiveMessageSize(16 * 1024 * 1024);
  // Keepalive: notice dead watchers and workers on idle connections.
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 60000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20000);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  ftd->server_ = builder.BuildAndStart();
  if (ftd->server_ == nullptr || ftd->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("--listen: cannot listen on ", options.listen, " (address in use?)"));
  }
  ftd->server_->GetHealthCheckService()->SetServingStatus(true);
  ftd->server_->GetHealthCheckService()->SetServingStatus("ft.v1.FinetuneService", true);

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
  while (!stopping_) {
    manager_->Tick();
    metrics_->RemoveExpiredJobSeries();
    metrics_->SetWorkers(pool_->alive());
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
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  spdlog::debug("gRPC server stopped");
  if (housekeeping_.joinable()) housekeeping_.join();
  spdlog::info("ftd stopped");
}

FtdServer::~FtdServer() { Shutdown(); }

}  // namespace ft
