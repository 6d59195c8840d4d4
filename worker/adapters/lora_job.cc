#include "worker/adapters/lora_job.h"

#include <cstdio>

#include "worker/adapters/peft_folder.h"
#include "worker/output/model_export.h"

namespace ft::adapters {

LoraJob SetUpLora(models::TrainableModelImpl& model, models::ModelFamily family,
                  const LoraOptions& options, const models::ModelLog& log) {
  LoraJob job;
  job.applied = options.adapter.empty() ? options : ReadAdapterConfig(options.adapter, options);
  job.report = ApplyLora(model, family, job.applied);
  if (!options.adapter.empty()) LoadPeftAdapterWeights(model, options.adapter);
  char share[32];
  std::snprintf(share, sizeof(share), "%.3f",
                100.0 * static_cast<double>(job.report.trainable_parameters) /
                    static_cast<double>(job.report.total_parameters));
  std::string targets;
  for (const std::string& target : job.report.target_modules) {
    targets += (targets.empty() ? "" : ", ") + target;
  }
  log("info", "LoRA r=" + std::to_string(job.applied.r) + " on " +
                  std::to_string(job.report.wrapped_layers) + " layers (" + targets +
                  "): " + std::to_string(job.report.trainable_parameters) + " of " +
                  std::to_string(job.report.total_parameters) + " parameters train (" + share +
                  " %)" + (options.adapter.empty() ? "" : ", from " + options.adapter));
  return job;
}

void WriteLoraOutput(models::TrainableModelImpl& model, const LoraJob& job,
                     models::ModelFamily family, const std::vector<std::string>& label_names,
                     int64_t max_seq_length, const std::string& base_model,
                     const std::string& output_dir) {
  WritePeftAdapter(model, job.applied, job.report, family, model.task(), base_model,
                   output_dir);
  if (job.applied.merge) {
    train::WriteModelFolder(model, label_names, max_seq_length,
                            output_dir + "/" + kMergedFolder, MergedParameters(model));
  }
}

}  // namespace ft::adapters
