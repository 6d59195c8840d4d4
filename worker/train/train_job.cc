// RunTrainingJob: options check, data, training, result.json. The boundary where every error
// becomes a TrainOutcome.
#include "worker/train/train_job.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <stdexcept>

#include "common/data/dataset.h"
#include "common/models/end_of_sequence.h"
#include "common/util/atomic_file.h"
#include "worker/memory/auto_micro_batch.h"
#include "worker/data/job_data.h"
#include "worker/data/lm_data.h"
#include "worker/train/options_check.h"
#include "worker/output/result_json.h"
#include "worker/train/trainer.h"

namespace ft::train {
namespace {

TrainOutcome Failed(std::string error) {
  TrainOutcome outcome;
  outcome.status = TrainOutcome::Status::kFailed;
  outcome.error = std::move(error);
  return outcome;
}

std::string DescribeData(const JobData& data) {
  if (data.train.causal_lm()) {
    const auto targets = [](const TokenizedSplit& split) {
      uint64_t count = 0;
      for (std::size_t i = 0; i < split.size(); ++i) {
        for (int64_t target : split.target_mask[i]) count += static_cast<uint64_t>(target);
      }
      return std::to_string(count);
    };
    return "examples: train " + std::to_string(data.train.size()) + " (" + targets(data.train) +
           " target tokens), validation " + std::to_string(data.validation.size()) + " (" +
           targets(data.validation) + "), test " + std::to_string(data.test.size()) + " (" +
           targets(data.test) + ")";
  }
  std::string labels;
  for (const std::string& name : data.label_names) labels += (labels.empty() ? "" : ", ") + name;
  return "examples: train " + std::to_string(data.train.size()) + ", validation " +
         std::to_string(data.validation.size()) + ", test " + std::to_string(data.test.size()) +
         "; labels: " + labels + "; majority-class validation accuracy " +
         std::to_string(MajorityClassAccuracy(data, data.validation));
}

std::string DescribeTokenCache(const TokenCacheReport& cache) {
  char seconds[32];
  std::snprintf(seconds, sizeof(seconds), "%.2f s", cache.seconds);
  if (cache.dir.empty()) return std::string("data read and tokenized in ") + seconds + " (no token cache)";
  if (cache.hits > 0) {
    return "token cache: " + std::to_string(cache.hits) + " split(s) mapped from " + cache.dir +
           " in " + seconds;
  }
  return "token cache: " + std::to_string(cache.misses) + " split(s) tokenized in " + seconds +
         ", " + std::to_string(cache.written) + " stored in " + cache.dir;
}

}  // namespace

TrainOutcome RunTrainingJob(const TrainOptions& options, TrainObserver* observer) {
  TrainObserver silent;
  TrainObserver& watcher = observer != nullptr ? *observer : silent;
  const auto start = std::chrono::steady_clock::now();

  std::optional<models::ModelConfig> config;
  try {
    config = CheckOptions(options);
  } catch (const std::invalid_argument& invalid) {
    return Failed("invalid options: " + std::string(invalid.what()));
  }

  std::string phase = "reading data";
  try {
    const JobData data = options.task == "causal_lm"
                             ? LoadLmJobData(options, models::EosTokenId(*config))
                             : LoadJobData(options);
    watcher.OnLog("info", DescribeData(data));
    for (const std::string& note : data.notes) watcher.OnLog("warning", note);
    for (const std::string& warning : data.token_cache.warnings) watcher.OnLog("warning", warning);
    watcher.OnLog("info", DescribeTokenCache(data.token_cache));

    TrainOptions resolved = options;
    phase = options.auto_micro_batch ? "choosing the micro-batch" : "training";
    const MicroBatchChoice choice = ChooseMicroBatch(options, *config, data);
    resolved.micro_batch_size = choice.micro_batch_size;
    resolved.accumulation_steps = choice.accumulation_steps;
    resolved.effective_batch_size = choice.effective_batch_size;
    watcher.OnLog("info", choice.Describe());

    phase = options.evaluate_only ? "evaluating" : "training";
    std::filesystem::create_directories(options.output_dir);
    TrainingSummary summary = Train(resolved, *config, data, watcher);
    if (summary.outcome.status != TrainOutcome::Status::kSucceeded) return summary.outcome;
    summary.pipeline.token_cache = data.token_cache;
    summary.pipeline.micro_batch = choice;

    // The gang's rank 0 alone writes the job folder's files (worker/distributed).
    if (options.distributed.rank != 0) return summary.outcome;
    phase = "writing result.json";
    const double total_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    WriteFileAtomically((std::filesystem::path(options.output_dir) / "result.json").string(),
                            ResultJson(resolved, data, summary, total_seconds));
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
