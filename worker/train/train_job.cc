// RunTrainingJob: options check, data, training, result.json. The boundary where every error
// becomes a TrainOutcome.
#include "train/train_job.h"

#include <chrono>
#include <filesystem>
#include <stdexcept>

#include "data/dataset.h"
#include "io/atomic_file.h"
#include "train/job_data.h"
#include "train/options_check.h"
#include "train/result_json.h"
#include "train/trainer.h"

namespace ft::train {
namespace {

TrainOutcome Failed(std::string error) {
  TrainOutcome outcome;
  outcome.status = TrainOutcome::Status::kFailed;
  outcome.error = std::move(error);
  return outcome;
}

std::string DescribeData(const JobData& data) {
  std::string labels;
  for (const std::string& name : data.label_names) labels += (labels.empty() ? "" : ", ") + name;
  return "examples: train " + std::to_string(data.train.size()) + ", validation " +
         std::to_string(data.validation.size()) + ", test " + std::to_string(data.test.size()) +
         "; labels: " + labels + "; majority-class validation accuracy " +
         std::to_string(MajorityClassAccuracy(data, data.validation));
}

}  // namespace

TrainOutcome RunTrainingJob(const TrainOptions& options, TrainObserver* observer) {
  TrainObserver silent;
  TrainObserver& watcher = observer != nullptr ? *observer : silent;
  const auto start = std::chrono::steady_clock::now();

  std::string error;
  const std::optional<models::BloomConfig> config = CheckOptions(options, error);
  if (!config) return Failed("invalid options: " + error);

  std::string phase = "reading data";
  try {
    const JobData data = LoadJobData(options);
    watcher.OnLog("info", DescribeData(data));

    phase = "training";
    std::filesystem::create_directories(options.output_dir);
    TrainingSummary summary = Train(options, *config, data, watcher);
    if (summary.outcome.status != TrainOutcome::Status::kSucceeded) return summary.outcome;

    phase = "writing result.json";
    const double total_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    io::WriteFileAtomically((std::filesystem::path(options.output_dir) / "result.json").string(),
                            ResultJson(options, data, summary, total_seconds));
    return summary.outcome;
  } catch (const data::DataError& data_error) {
    return Failed("data error: " + std::string(data_error.what()));
  } catch (const std::exception& exception) {
    return Failed(phase + ": " + exception.what());
  } catch (...) {
    return Failed(phase + ": unknown error");
  }
}

}  // namespace ft::train
