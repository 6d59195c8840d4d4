#include "worker/daemon/standalone.h"

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "absl/strings/str_format.h"
#include "common/events/event_log_appender.h"
#include "common/spec/spec_defaults.h"
#include "common/spec/spec_validation.h"
#include "ft/v1/job.pb.h"
#include "google/protobuf/util/json_util.h"
#include "worker/daemon/event_conversion.h"
#include "worker/daemon/remote_inputs.h"
#include "worker/daemon/spec_to_options.h"

namespace ft::worker {
namespace {

std::atomic<bool> interrupted{false};

// Prints each report and appends it to <out>/events.jsonl. The log documents the run and must not
// fail it: a log that cannot be opened or written is left out.
class PrintingObserver : public train::TrainObserver {
 public:
  explicit PrintingObserver(const std::string& out_dir) {
    absl::StatusOr<std::unique_ptr<events::EventLogAppender>> appender =
        events::EventLogAppender::Open(out_dir);
    if (appender.ok()) events_ = std::move(*appender);
  }
  void OnProgress(const train::ProgressReport& r) override {
    Append(ProgressEvent(r));
    std::cout << absl::StrFormat(
                     "step %d/%d epoch %d loss %.4f lr %.2e %.1f samples/s %.0f tokens/s eta %.0fs",
                     r.step, r.total_steps, r.epoch, r.loss, r.learning_rate, r.samples_per_second,
                     r.tokens_per_second, r.eta_seconds)
              << std::endl;
  }
  void OnEvaluation(const train::EvalReport& r) override {
    Append(EvaluationEvent(r));
    std::cout << absl::StrFormat(
                     "eval %s at step %d: accuracy %.2f%% macro-F1 %.4f loss %.4f (%d examples)",
                     r.split, r.step, 100 * r.accuracy, r.macro_f1, r.loss, r.examples)
              << std::endl;
  }
  void OnCheckpoint(const train::CheckpointReport& r) override {
    Append(CheckpointSavedEvent(r));
    std::cout << absl::StrFormat("checkpoint at step %d (%.1f MB, %.2f s)", r.step,
                                 static_cast<double>(r.bytes) / 1e6, r.seconds)
              << std::endl;
  }
  void OnLog(const std::string& level, const std::string& message) override {
    Append(LogEvent(level, message));
    std::cout << level << ": " << message << std::endl;
  }
  bool StopRequested() override { return interrupted.load(); }

 private:
  void Append(ft::v1::JobEvent event) {
    if (events_ != nullptr) (void)events_->Append(std::move(event));
  }

  std::unique_ptr<events::EventLogAppender> events_;
};

}  // namespace

int RunStandalone(const std::string& spec_path, const std::string& out_dir, int threads,
                  const std::string& token_cache_dir, double memory_budget_mb) {
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
  PrintingObserver observer(out_dir);
  train::TrainOptions options =
      ToTrainOptions(spec, std::filesystem::absolute(out_dir).string(), threads);
  options.token_cache_dir = token_cache_dir;
  options.memory_budget_mb = memory_budget_mb;
  if (absl::Status inputs =
          ResolveRemoteInputs(spec, DefaultDatasetsDir(token_cache_dir), options, &observer);
      !inputs.ok()) {
    std::cerr << "ftworker: failed: " << inputs.message() << std::endl;
    return 1;
  }
  const train::TrainOutcome outcome = train::RunTrainingJob(options, &observer);
  switch (outcome.status) {
    case train::TrainOutcome::Status::kSucceeded:
      std::cout << "succeeded; model and result.json in " << out_dir << std::endl;
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
