// ftworker: trains jobs leased from ftd, or one job from a spec file (standalone mode), or
// completes a prompt with a finished causal-LM folder (`ftworker generate`).
#include <malloc.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>

#include "CLI/CLI.hpp"
#include "common/util/ft_home.h"
#include "common/util/logging.h"
#include "spdlog/spdlog.h"
#include "worker/daemon/gang_rendezvous.h"
#include "worker/daemon/grpc_worker_link.h"
#include "worker/daemon/openmp_wait_policy.h"
#include "worker/daemon/remote_inputs.h"
#include "worker/daemon/standalone.h"
#include "worker/daemon/worker_loop.h"
#include "worker/generate/generate_command.h"

namespace {
std::atomic<bool> shutdown_requested{false};
}  // namespace

int main(int argc, char** argv) {
  ft::worker::ReexecWithPassiveOpenMpWait(argv);
  // glibc returns freed activation memory to the kernel after every step by default, and the
  // next step faults it back in: ~1M page faults a run and 17-25 % of the throughput
  // (tests/bench/README.md). Keep large blocks in the heap instead; peak RSS is unchanged.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 128 << 20);

  ft::worker::WorkerLoopOptions options;
  options.worker_id = "worker-" + std::to_string(getpid());
  // $FT_HOME/cache/tokens, else ~/.ftd/cache/tokens; ftd passes its own home's.
  options.token_cache_dir = ft::DefaultFtHome() + "/cache/tokens";
  std::string spec_path;
  std::string out_dir;
  ft::LoggingOptions logging;
  logging.name = "ftworker";

  CLI::App app{
      "ftworker: trains finetuning jobs. Daemon mode leases jobs from ftd "
      "(--server); standalone mode trains one spec file (--spec, --out)."};
  app.add_option("--server", options.server, "ftd address HOST:PORT (daemon mode)");
  app.add_option("--worker-id", options.worker_id, "unique worker name")->capture_default_str();
  options.advertise_host = ft::worker::DefaultAdvertiseHost();
  app.add_option("--advertise-host", options.advertise_host,
                 "data-parallel jobs: the address other workers reach this one at when it is "
                 "rank 0 (ftd's local workers: 127.0.0.1; Kubernetes: the pod IP)")
      ->capture_default_str();
  app.add_option("--threads", options.threads, "intra-op threads (0: all cores)")
      ->check(CLI::Range(0, 1024))
      ->capture_default_str();
  std::string cpu_replicas = "auto";
  app.add_option("--cpu-replicas", cpu_replicas,
                 "on a CPU with several threads: auto splits each micro-batch's rows between "
                 "single-threaded replicas of the model where the job allows it (faster; one "
                 "more gradient buffer per replica); off: one model whose ops use every thread")
      ->check(CLI::IsMember({"auto", "off"}))
      ->capture_default_str();
  app.add_option("--cache-dir", options.token_cache_dir,
                 "token cache: tokenized datasets, shared by jobs and workers (\"\": none)")
      ->capture_default_str();
  app.add_option("--memory-budget-mb", options.memory_budget_mb,
                 "memory for one micro-batch's forward and backward pass, for jobs with "
                 "auto_micro_batch (0: 50% of MemAvailable on CPU, 90% of free GPU memory)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--spec", spec_path, "standalone: a JobSpec as JSON (ft.v1.JobSpec mapping)");
  app.add_option("--out", out_dir, "standalone: output folder");
  std::string profile_trace;
  app.add_option("--profile-trace", profile_trace,
                 "standalone: write LibTorch's operator trace (Chrome trace JSON) of the training "
                 "steps between the first and the second progress report to FILE "
                 "(docs/performance.md)");
  int rank = 0;
  int world_size = 1;
  std::string rendezvous;
  double gang_timeout_seconds = 60;
  app.add_option("--rank", rank, "standalone data parallel: this process's rank (0..N-1)")
      ->capture_default_str();
  app.add_option("--world-size", world_size,
                 "standalone data parallel: the number of processes training the spec together")
      ->capture_default_str();
  app.add_option("--rendezvous", rendezvous,
                 "standalone data parallel: HOST:PORT of the store that rank 0 hosts");
  app.add_option("--gang-timeout", gang_timeout_seconds,
                 "standalone data parallel: seconds before a missing or silent rank fails the "
                 "others")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  std::string gang_reduce = "auto";
  app.add_option("--gang-reduce", gang_reduce,
                 "standalone data parallel: when the gradients' all-reduce starts: \"overlapped\" "
                 "(each bucket during the backward, as soon as its gradients are final), "
                 "\"after-backward\" (all of them once the backward ends) or \"auto\" "
                 "(overlapped on a GPU, after the backward on the CPU)")
      ->check(CLI::IsMember({"auto", "overlapped", "after-backward"}))
      ->capture_default_str();
  app.add_option("--log-level", logging.level, "trace, debug, info, warn, error")
      ->capture_default_str();
  app.add_flag("--log-json", logging.json, "log one JSON object per line");
  app.add_option("--datasets-dir", options.datasets_dir,
                 "named datasets (spec.dataset.name) are cached here (default: beside the token "
                 "cache, <home>/cache/datasets)");
  std::string token_file;
  app.add_option("--token-file", token_file,
                 "file holding this worker's token (role worker); default: $FT_WORKER_TOKEN");
  app.add_option("--tls-ca", options.security.tls_ca_file, "PEM CA of ftd's TLS certificate");
  app.add_option("--tls-cert", options.security.tls_cert_file, "PEM client certificate");
  app.add_option("--tls-key", options.security.tls_key_file, "PEM client key");
  app.add_option("--tls-server-name", options.security.tls_server_name,
                 "name to expect in ftd's certificate");
  ft::generate::GenerateCommandOptions generate;
  CLI::App* generate_command = app.add_subcommand(
      "generate", "greedy completion of --prompt by a finished causal_lm job's output folder");
  generate_command->add_option("--model", generate.model_dir, "the model folder")->required();
  generate_command->add_option("--prompt", generate.prompt, "the prompt text")->required();
  generate_command
      ->add_option("--max-new-tokens", generate.max_new_tokens,
                   "at most this many tokens (fewer when the model ends the text)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  generate_command->add_flag("--chat", generate.chat,
                             "render the prompt as one user turn with the folder's chat template");
  generate_command->add_option("--threads", generate.threads, "intra-op threads (0: all cores)")
      ->check(CLI::Range(0, 1024))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  options.cpu_replicas = cpu_replicas == "auto";
  if (*generate_command) {
    generate.log = [](const std::string& level, const std::string& text) {
      if (level != "info") std::cerr << "ftworker generate: " << level << ": " << text << "\n";
    };
    absl::StatusOr<std::string> completion = ft::generate::RunGenerateCommand(generate);
    if (!completion.ok()) {
      std::cerr << "ftworker generate: " << completion.status().message() << "\n";
      return 1;
    }
    std::cout << *completion << "\n";
    return 0;
  }
  if (const char* token = std::getenv("FT_WORKER_TOKEN"); token != nullptr) {
    options.security.token = token;
  }
  if (!token_file.empty()) {
    std::ifstream in(token_file);
    if (!(in >> options.security.token)) {
      std::cerr << "ftworker: --token-file: cannot read a token from " << token_file << "\n";
      return 2;
    }
  }
  if (!options.token_cache_dir.empty()) {
    options.token_cache_dir = std::filesystem::absolute(options.token_cache_dir).string();
  }
  if (options.datasets_dir.empty()) {
    options.datasets_dir = ft::worker::DefaultDatasetsDir(options.token_cache_dir);
  }

  if (absl::Status status = ft::SetUpLogging(logging); !status.ok()) {
    std::cerr << "ftworker: " << status.message() << "\n";
    return 2;
  }
  const std::string wait_policy = ft::worker::OpenMpWaitPolicyAtLoad();
  spdlog::info("OMP_WAIT_POLICY={} when LibTorch's OpenMP loaded",
               wait_policy.empty() ? "(unset: spinning threads)" : wait_policy);
  if (!spec_path.empty()) {
    if (out_dir.empty()) {
      std::cerr << "ftworker: --out is required with --spec\n";
      return 2;
    }
    absl::StatusOr<ft::train::DistributedOptions> gang =
        ft::worker::StandaloneGang(rank, world_size, rendezvous, gang_timeout_seconds);
    if (!gang.ok()) {
      std::cerr << "ftworker: " << gang.status().message() << "\n";
      return 2;
    }
    if (gang_reduce != "auto") gang->overlap_gradient_reduce = gang_reduce == "overlapped";
    return ft::worker::RunStandalone(spec_path, out_dir, options.threads, options.token_cache_dir,
                                     options.memory_budget_mb, *gang, profile_trace,
                                     options.cpu_replicas);
  }
  if (options.server.empty()) {
    std::cerr << "ftworker: give --server HOST:PORT (daemon mode) or --spec FILE --out DIR\n";
    return 2;
  }
  // The handlers only set a flag; the loop and the trainer poll it.
  std::signal(SIGTERM, [](int) { shutdown_requested.store(true); });
  std::signal(SIGINT, [](int) { shutdown_requested.store(true); });
  std::unique_ptr<ft::worker::GrpcWorkerLink> link =
      ft::worker::GrpcWorkerLink::Connect(options.server, options.security);
  ft::worker::WorkerLoop loop(options, link.get(), ft::train::RunTrainingJob, &shutdown_requested);
  return loop.Run();
}
