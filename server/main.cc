// ftd: the finetuning job daemon.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "CLI/CLI.hpp"
#include "absl/synchronization/mutex.h"
#include "common/util/ft_home.h"
#include "common/util/logging.h"
#include "server/ftd_server.h"
#include "server/workers/local_worker_gpus.h"
#include "spdlog/spdlog.h"

namespace {

// ftworker beside this executable.
std::string DefaultWorkerBinary() {
  std::error_code error;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) return "ftworker";
  return (self.parent_path() / "ftworker").string();
}

}  // namespace

int main(int argc, char** argv) {
  // Debian's abseil leaves Mutex deadlock detection on, which records a stack trace in a global
  // graph on every lock: a cost on every call under load. The unit tests keep it.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  ft::FtdOptions options;
  options.home = ft::DefaultFtHome();
  options.worker_binary = DefaultWorkerBinary();
  ft::LoggingOptions logging;
  logging.name = "ftd";
  double metrics_grace_seconds = 60;
  double lease_timeout_seconds = 15;
  std::string port_file;
  double retention_max_age_hours = 24 * 30;
  double retention_interval_seconds = 60;
  uint64_t retention_disk_budget_mb = 50 * 1024;
  uint64_t token_cache_budget_mb = 20 * 1024;

  CLI::App app{
      "ftd: the finetuning job daemon. Stores, queues and runs finetuning jobs on local "
      "ftworker processes; serves the ft.v1.FinetuneService gRPC API and Prometheus "
      "metrics."};
  app.add_option("--listen", options.listen, "gRPC API address HOST:PORT (port 0: any free port)")
      ->capture_default_str();
  app.add_option("--metrics-listen", options.metrics_listen,
                 "Prometheus /metrics address HOST:PORT")
      ->capture_default_str();
  app.add_option("--home", options.home,
                 "state folder: ftd.db, jobs/<id>/, workers/*.log (default: $FT_HOME, else "
                 "$HOME/.ftd)")
      ->capture_default_str();
  app.add_option("--worker-binary", options.worker_binary, "ftworker executable")
      ->capture_default_str();
  app.add_option("--local-workers", options.local_workers,
                 "ftworker processes to start (0: none, only remote workers)")
      ->check(CLI::Range(0, 64))
      ->capture_default_str();
  std::string local_worker_gpus;
  app.add_option("--local-worker-gpus", local_worker_gpus,
                 "one GPU per local worker, e.g. 0,1,2,3 (indices or GPU-/MIG- UUIDs): worker i "
                 "sees only the i-th (CUDA_VISIBLE_DEVICES), as cuda:0; starts one worker per GPU "
                 "unless --local-workers says so too (then the counts must match)");
  app.add_option("--worker-threads", options.worker_threads,
                 "intra-op threads per local worker (0: all cores)")
      ->check(CLI::Range(0, 1024))
      ->capture_default_str();
  app.add_option("--worker-nice", options.worker_nice,
                 "niceness added to local workers, so that training yields the CPU to ftd's "
                 "API (0: none)")
      ->check(CLI::Range(0, 19))
      ->capture_default_str();
  app.add_option("--metrics-grace-seconds", metrics_grace_seconds,
                 "keep a finished job's metrics series this long")
      ->check(CLI::Range(0.0, 86400.0))
      ->capture_default_str();
  app.add_option("--lease-timeout-seconds", lease_timeout_seconds,
                 "re-queue a job whose worker sent no heartbeat for this long")
      ->check(CLI::Range(1.0, 3600.0))
      ->capture_default_str();
  app.add_option("--max-job-attempts", options.max_job_attempts,
                 "run a job at most this many times when its worker dies or goes silent (each "
                 "new attempt resumes from the job's newest checkpoint); then it fails")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.add_option("--max-queued-jobs", options.max_queued_jobs, "refuse submissions beyond this")
      ->check(CLI::Range(1, 10000000))
      ->capture_default_str();
  app.add_option("--port-file", port_file,
                 "once serving, write '<api port> <metrics port>' (and ' <console port>' with "
                 "--console-listen) to this file (for scripts)");
  app.add_option("--console-listen", options.console_listen,
                 "serve the web console and its JSON API on HOST:PORT (port 0: any free port; "
                 "default: off). Same bearer tokens as the gRPC API; plain HTTP");
  app.add_option("--console-max-streams", options.console_max_streams,
                 "open live event streams of the console at once")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
  app.add_option("--log-level", logging.level, "trace, debug, info, warn, error")
      ->capture_default_str();
  app.add_flag("--log-json", logging.json, "log one JSON object per line");

  // Security.
  app.add_option("--token-file", options.token_file,
                 "bearer tokens, one 'TOKEN USER ROLE' per line (ROLE: user, admin, worker; "
                 "TOKEN may be sha256:HEX); re-read when it changes and on SIGHUP")
      ->group("Security");
  app.add_flag("--insecure-no-auth", options.insecure_no_auth,
               "accept every call without a token (only on a loopback --listen)")
      ->group("Security");
  app.add_option("--tls-cert", options.tls_cert, "PEM certificate chain: the API speaks TLS")
      ->group("Security");
  app.add_option("--tls-key", options.tls_key, "PEM private key of --tls-cert")->group("Security");
  app.add_option("--tls-client-ca", options.tls_client_ca,
                 "PEM CA: require client certificates signed by it")
      ->group("Security");
  app.add_option("--data-root", options.data_roots,
                 "folder that datasets and model folders must lie in (repeatable; default: "
                 "<home>/data)")
      ->group("Security");

  // Resource limits.
  app.add_option("--max-dataset-bytes", options.max_dataset_bytes,
                 "largest dataset file or folder a job may name (0: no limit)")
      ->capture_default_str()
      ->group("Limits");
  app.add_option("--max-seq-length-limit", options.max_seq_length,
                 "largest spec.max_seq_length accepted (0: the spec's own bound, 8192)")
      ->check(CLI::Range(0, 8192))
      ->capture_default_str()
      ->group("Limits");
  app.add_option("--max-queued-jobs-per-user", options.max_queued_jobs_per_user,
                 "queued jobs per user (0: no limit)")
      ->check(CLI::Range(0, 10000000))
      ->capture_default_str()
      ->group("Limits");
  app.add_option("--max-watchers", options.max_watchers, "open WatchJob streams (0: no limit)")
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str()
      ->group("Limits");
  app.add_option("--max-watchers-per-job", options.max_watchers_per_job,
                 "open WatchJob streams per job (0: no limit)")
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str()
      ->group("Limits");
  app.add_option("--max-request-bytes", options.max_request_bytes, "largest request message")
      ->check(CLI::Range(1024, 1 << 30))
      ->capture_default_str()
      ->group("Limits");

  // Housekeeping.
  app.add_option("--retention-max-age-hours", retention_max_age_hours,
                 "delete ended jobs (record, events, folder) this long after they ended (0: never)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str()
      ->group("Housekeeping");
  app.add_option("--retention-max-jobs", options.retention.max_jobs,
                 "keep at most this many ended jobs, deleting the oldest (0: no limit)")
      ->check(CLI::Range(0, 100000000))
      ->capture_default_str()
      ->group("Housekeeping");
  app.add_option("--retention-disk-budget-mb", retention_disk_budget_mb,
                 "delete the oldest ended jobs while their folders use more (0: no budget)")
      ->capture_default_str()
      ->group("Housekeeping");
  app.add_flag("--keep-checkpoints", options.retention.keep_checkpoints,
               "keep succeeded jobs' checkpoints/ (default: removed; the model stays)")
      ->group("Housekeeping");
  app.add_option("--token-cache-budget-mb", token_cache_budget_mb,
                 "remove the least recently used tokenized splits from <home>/cache/tokens while "
                 "they use more (0: no budget)")
      ->capture_default_str()
      ->group("Housekeeping");
  app.add_option("--retention-interval-seconds", retention_interval_seconds,
                 "how often retention runs and ft_home_disk_bytes is measured")
      ->check(CLI::Range(0.1, 86400.0))
      ->capture_default_str()
      ->group("Housekeeping");

  // Webhooks (docs/webhooks.md).
  double webhook_retry_base_seconds = 5;
  double webhook_give_up_seconds = 24 * 3600;
  double webhook_timeout_seconds = 10;
  app.add_option("--webhook-url", options.webhooks.urls,
                 "POST every job's state changes to this http(s) URL (repeatable)")
      ->group("Webhooks");
  app.add_option("--webhook-secret-file", options.webhooks.secret_file,
                 "file whose first line is the HMAC-SHA256 key of the ftd-Signature header")
      ->group("Webhooks");
  app.add_flag("--webhook-allow-private", options.webhooks.policy.allow_private,
               "let jobs' notify URLs reach loopback, link-local and private addresses")
      ->group("Webhooks");
  app.add_flag("--webhook-evaluations", options.webhooks.evaluations,
               "also send each evaluation (job.evaluation), not only state changes")
      ->group("Webhooks");
  app.add_option("--webhook-ca-file", options.webhooks.ca_file,
                 "PEM CA certificates for https receivers (default: the system's)")
      ->group("Webhooks");
  app.add_option("--webhook-concurrency", options.webhooks.concurrency,
                 "webhook requests in flight at once")
      ->check(CLI::Range(1, 64))
      ->capture_default_str()
      ->group("Webhooks");
  app.add_option("--webhook-timeout-seconds", webhook_timeout_seconds,
                 "time limit of one webhook request")
      ->check(CLI::Range(0.1, 300.0))
      ->capture_default_str()
      ->group("Webhooks");
  app.add_option("--webhook-retry-base-seconds", webhook_retry_base_seconds,
                 "first retry delay; doubles per failure up to an hour, with jitter")
      ->check(CLI::Range(0.01, 3600.0))
      ->capture_default_str()
      ->group("Webhooks");
  app.add_option("--webhook-give-up-seconds", webhook_give_up_seconds,
                 "give a delivery up this long after its event (metric and log line)")
      ->check(CLI::Range(0.0, 30.0 * 86400))
      ->capture_default_str()
      ->group("Webhooks");
  CLI11_PARSE(app, argc, argv);
  if (app.count("--local-worker-gpus") > 0) {
    absl::StatusOr<std::vector<std::string>> gpus =
        ft::workers::ParseLocalWorkerGpus(local_worker_gpus);
    absl::StatusOr<int> count =
        gpus.ok() ? ft::workers::LocalWorkerCount(
                        app.count("--local-workers") > 0 ? options.local_workers : -1, *gpus)
                  : gpus.status();
    if (!count.ok()) {
      std::cerr << "ftd: " << count.status().message() << "\n";
      return 2;
    }
    options.local_workers = *count;
    options.local_worker_gpus = *gpus;
  }
  options.webhooks.schedule.base = absl::Seconds(webhook_retry_base_seconds);
  options.webhooks.schedule.give_up_after = absl::Seconds(webhook_give_up_seconds);
  options.webhooks.timeout = absl::Seconds(webhook_timeout_seconds);
  options.metrics_grace = absl::Seconds(metrics_grace_seconds);
  options.lease_timeout = absl::Seconds(lease_timeout_seconds);
  options.retention.max_age = absl::Hours(retention_max_age_hours);
  options.retention.disk_budget_bytes = retention_disk_budget_mb << 20;
  options.retention.token_cache_budget_bytes = token_cache_budget_mb << 20;
  options.retention_interval = absl::Seconds(retention_interval_seconds);
  // Files and folders ftd and its workers create (job folders, models, logs, the database) are
  // not readable by other users.
  umask(027);

  if (absl::Status status = ft::SetUpLogging(logging); !status.ok()) {
    std::cerr << "ftd: " << status.message() << "\n";
    return 2;
  }

  // Signals are taken synchronously by this thread (sigwait), never by a handler; block them
  // before any other thread starts so that every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  absl::StatusOr<std::unique_ptr<ft::FtdServer>> server = ft::FtdServer::Create(options);
  if (!server.ok()) {
    spdlog::error("ftd cannot start: {}", std::string(server.status().message()));
    return 1;
  }
  if (!port_file.empty()) {
    const std::string tmp = port_file + ".tmp";
    std::ofstream out(tmp);
    out << (*server)->port() << " " << (*server)->metrics_port();
    if ((*server)->console_port() != 0) out << " " << (*server)->console_port();
    out << "\n";
    out.close();
    std::filesystem::rename(tmp, port_file);
  }
  int sig = 0;
  while (sigwait(&signals, &sig) == 0 && sig == SIGHUP) {
    if (absl::Status status = (*server)->ReloadTokens(); !status.ok()) {
      spdlog::error("SIGHUP: token file not reloaded, the previous tokens stay in force: {}",
                    std::string(status.message()));
    }
  }
  spdlog::info("received signal {}", sig);
  (*server)->Shutdown();
  return 0;
}
