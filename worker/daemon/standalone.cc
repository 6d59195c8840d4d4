#include "worker/daemon/standalone.h"

#include <atomic>
#include <csignal>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "common/events/event_log_appender.h"
#include "common/spec/spec_defaults.h"
#include "common/spec/spec_validation.h"
#include "ft/v1/job.pb.h"
#include "google/protobuf/util/json_util.h"
#include "worker/daemon/event_conversion.h"
#include "worker/daemon/remote_inputs.h"
#include "worker/daemon/spec_to_options.h"
#include "worker/profile/operator_trace.h"

namespace ft::worker {
namespace {

std::atomic<bool> interrupted{false};

// Prints each report and appends it to <out>/events.jsonl. The log documents the run and must not
// fail it: a log that cannot be opened or written is left out.
class PrintingObserver : public train::TrainObserver {
 public:
  // rank > 0: a gang's other rank prints with its rank in front and leaves the event log to rank 0.
  PrintingObserver(const std::string& out_dir, int rank, std::string trace_path)
      : prefix_(rank > 0 ? "[rank " + std::to_string(rank) + "] " : ""),
        trace_path_(std::move(trace_path)) {
    if (rank > 0) return;
    absl::StatusOr<std::unique_ptr<events::EventLogAppender>> appender =
        events::EventLogAppender::Open(out_dir);
    if (appender.ok()) events_ = std::move(*appender);
  }
  void OnProgress(const train::ProgressReport& r) override {
    Append(ProgressEvent(r));
    std::cout << prefix_
              << absl::StrFormat(
                     "step %d/%d epoch %d loss %.4f lr %.2e %.1f samples/s %.0f tokens/s eta %.0fs",
                     r.step, r.total_steps, r.epoch, r.loss, r.learning_rate, r.samples_per_second,
                     r.tokens_per_second, r.eta_seconds)
              << (r.communication_seconds > 0
                      ? absl::StrFormat(" step %.4fs exposed all-reduce %.4fs", r.step_seconds,
                                        r.communication_seconds)
                      : "")
              << std::endl;
    TraceAfterReport(r.step);
  }
  void OnEvaluation(const train::EvalReport& r) override {
    Append(EvaluationEvent(r));
    std::cout << prefix_
              << absl::StrFormat(
                     "eval %s at step %d: accuracy %.2f%% macro-F1 %.4f loss %.4f (%d examples)",
                     r.split, r.step, 100 * r.accuracy, r.macro_f1, r.loss, r.examples)
              << std::endl;
  }
  void OnCheckpoint(const train::CheckpointReport& r) override {
    Append(CheckpointSavedEvent(r));
    std::cout << prefix_ << absl::StrFormat("checkpoint at step %d (%.1f MB, %.2f s)", r.step,
                                 static_cast<double>(r.bytes) / 1e6, r.seconds)
              << std::endl;
  }
  void OnLog(const std::string& level, const std::string& message) override {
    Append(LogEvent(level, message));
    std::cout << prefix_ << level << ": " << message << std::endl;
  }
  bool StopRequested() override { return interrupted.load(); }

 private:
  void Append(ft::v1::JobEvent event) {
    if (events_ != nullptr) (void)events_->Append(std::move(event));
  }

  // --profile-trace: the steps between the first and the second progress report, so that the
  // first interval (warm-up: first allocations, first OpenBLAS and oneDNN calls) stays out.
  void TraceAfterReport(int64_t step) {
    if (trace_path_.empty()) return;
    ++reports_;
    try {
      if (reports_ == 1) {
        trace_.Start();
        trace_from_step_ = step + 1;
      } else if (reports_ == 2 && trace_.StopAndWrite(trace_path_)) {
        std::cout << prefix_ << "operator trace of steps " << trace_from_step_ << ".." << step
                  << " written to " << trace_path_ << std::endl;
      }
    } catch (const std::exception& error) {
      std::cerr << "ftworker: " << error.what() << std::endl;
    }
  }

  std::string prefix_;
  std::string trace_path_;
  profile::OperatorTrace trace_;
  int reports_ = 0;
  int64_t trace_from_step_ = 0;
  std::unique_ptr<events::EventLogAppender> events_;
};

}  // namespace

absl::StatusOr<train::DistributedOptions> StandaloneGang(int rank, int world_size,
                                                         const std::string& rendezvous,
                                                         double timeout_seconds) {
  train::DistributedOptions gang;
  if (world_size < 1) return absl::InvalidArgumentError("--world-size must be at least 1");
  if (rank < 0 || rank >= world_size) {
    return absl::InvalidArgumentError(absl::StrFormat("--rank %d is not in 0..%d (--world-size %d)",
                                                      rank, world_size - 1, world_size));
  }
  gang.rank = rank;
  gang.world_size = world_size;
  gang.timeout_seconds = timeout_seconds;
  if (world_size == 1) return gang;
  const std::size_t colon = rendezvous.rfind(':');
  int port = -1;
  if (colon != std::string::npos && colon > 0 &&
      absl::SimpleAtoi(rendezvous.substr(colon + 1), &port) && port >= 1 && port <= 65535) {
    gang.store_host = rendezvous.substr(0, colon);
    gang.store_port = port;
    return gang;
  }
  return absl::InvalidArgumentError(
      "--rendezvous \"" + rendezvous + "\" is not HOST:PORT (a port in 1..65535), which " +
      "--world-size " + std::to_string(world_size) + " needs");
}

int RunStandalone(const std::string& spec_path, const std::string& out_dir, int threads,
                  const std::string& token_cache_dir, double memory_budget_mb,
                  const train::DistributedOptions& distributed,
                  const std::string& profile_trace_path, bool cpu_replicas) {
  std::ifstream in(spec_path);
  if (!in) {
    std::cerr << "ftworker: --spec: cannot read " << spec_path << "\n";
    return 2;
  }
  std::stringstream text;
  text << in.rdbuf();
  ft::v1::JobSpec spec;
  if (auto status = google::protobuf::util::JsonStringToMessage(text.str(), &spec); !status.ok()) {
    std::cerr << "ftworker: " << spec_path << ": not a JobSpec: " << status.ToString() << "\n";
    return 2;
  }
  // Relative dataset paths are relative to the spec file, so a spec travels with its data.
  const std::string base =
      std::filesystem::absolute(spec_path).parent_path().lexically_normal().string();
  spec = spec::WithDefaults(spec, base);
  if (absl::Status status = spec::ValidateSpec(spec); !status.ok()) {
    std::cerr << "ftworker: " << spec_path << ": " << status.message() << "\n";
    return 2;
  }
  std::signal(SIGINT, [](int) { interrupted.store(true); });
  std::signal(SIGTERM, [](int) { interrupted.store(true); });
  PrintingObserver observer(out_dir, distributed.rank, profile_trace_path);
  train::TrainOptions options =
      ToTrainOptions(spec, std::filesystem::absolute(out_dir).string(), threads);
  options.distributed = distributed;
  // The spec's micro_batch_size x accumulation_steps is each rank's share of the window.
  if (!options.auto_micro_batch) {
    options.effective_batch_size =
        distributed.world_size * options.micro_batch_size * options.accumulation_steps;
  }
  options.token_cache_dir = token_cache_dir;
  options.memory_budget_mb = memory_budget_mb;
  options.cpu_replicas = cpu_replicas;
  if (absl::Status inputs =
          ResolveRemoteInputs(spec, DefaultDatasetsDir(token_cache_dir), options, &observer);
      !inputs.ok()) {
    std::cerr << "ftworker: failed: " << inputs.message() << std::endl;
    return 1;
  }
  const train::TrainOutcome outcome = train::RunTrainingJob(options, &observer);
  switch (outcome.status) {
    case train::TrainOutcome::Status::kSucceeded:
      std::cout << (distributed.rank > 0 ? "[rank " + std::to_string(distributed.rank) +
                                               "] succeeded; rank 0 wrote the model and "
                                               "result.json in "
                                         : std::string("succeeded; model and result.json in "))
                << out_dir << std::endl;
      return 0;
    case train::TrainOutcome::Status::kCancelled:
      std::cerr << "ftworker: interrupted" << std::endl;
      return 4;
    default:
      std::cerr << "ftworker: failed: " << outcome.error << std::endl;
      return 1;
  }
}

}  // namespace ft::worker
