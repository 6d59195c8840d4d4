#include "worker/output/result_json.h"

#include <torch/version.h>  // macros only; no LibTorch code

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "worker/eval/eval_report_json.h"
#include "worker/train/examples_per_step.h"
#include "worker/train/train_option_fields.h"

namespace ft::train {
namespace {

using Json = nlohmann::ordered_json;

#ifndef FT_VERSION
#define FT_VERSION "unknown"
#endif

std::string CompilerVersion() {
#if defined(__clang__)
  return std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  return std::string("gcc ") + __VERSION__;
#else
  return "unknown";
#endif
}

Json OptionsJson(const TrainOptions& options) {
  Json json;
  for (const TrainOptionField& field : kTrainOptionFields) {
    if (!field.in_result_json) continue;
    VisitOption(options, field, [&](const auto& value) { json[field.name] = value; });
  }
  // What each optimizer step saw, also when the options left it to the geometry (0).
  json["world_size"] = options.distributed.world_size;
  json["effective_batch_size"] = ExamplesPerStep(options);
  if (options.lora.enabled) {
    Json lora = Json::object();
    for (const auto& [field, value] : options.lora.Fields()) lora[field] = Json::parse(value);
    json["lora"] = std::move(lora);
  }
  return json;
}

// Early stopping and the best validation evaluation: what decided the exported weights.
Json ValidationTrackingJson(const TrainOptions& options, const TrainingSummary& summary) {
  const ValidationTrackerState& tracking = summary.validation_tracking;
  Json json;
  json["metric"] = options.early_stopping_metric;
  json["patience"] = options.early_stopping_patience;
  if (tracking.best_step >= 0) {
    json["best_step"] = tracking.best_step;
    json["best_value"] = tracking.best_value;
  } else {
    json["best_step"] = nullptr;
    json["best_value"] = nullptr;
  }
  json["bad_evaluations_at_end"] = tracking.bad_evaluations;
  return json;
}

}  // namespace

double MajorityClassAccuracy(const JobData& data, const TokenizedSplit& split) {
  if (split.empty() || data.train.empty()) return 0;
  std::map<int64_t, int64_t> train_counts;
  for (int64_t label : data.train.labels) ++train_counts[label];
  const int64_t majority =
      std::max_element(train_counts.begin(), train_counts.end(), [](const auto& a, const auto& b) {
        return a.second < b.second;
      })->first;
  const auto hits = std::count(split.labels.begin(), split.labels.end(), majority);
  return static_cast<double>(hits) / static_cast<double>(split.size());
}

double MajorityCompletionMatch(const JobData& data, const TokenizedSplit& split) {
  const auto completion = [](const TokenizedSplit& from, std::size_t i) {
    const std::vector<int64_t> ids = from.input_ids[i].ToVector();
    const auto prompt = static_cast<std::size_t>(from.prompt_tokens[i]);
    return std::vector<int64_t>(ids.begin() + static_cast<std::ptrdiff_t>(prompt), ids.end());
  };
  std::map<std::vector<int64_t>, int64_t> counts;
  for (std::size_t i = 0; i < data.train.prompt_tokens.size(); ++i) {
    if (data.train.prompt_tokens[i] > 0) ++counts[completion(data.train, i)];
  }
  if (counts.empty()) return 0;
  const std::vector<int64_t>& majority =
      std::max_element(counts.begin(), counts.end(), [](const auto& a, const auto& b) {
        return a.second < b.second;
      })->first;
  int64_t examples = 0;
  int64_t hits = 0;
  for (std::size_t i = 0; i < split.prompt_tokens.size(); ++i) {
    if (split.prompt_tokens[i] <= 0) continue;
    ++examples;
    if (completion(split, i) == majority) ++hits;
  }
  return examples > 0 ? static_cast<double>(hits) / static_cast<double>(examples) : 0.0;
}

std::string ResultJson(const TrainOptions& options, const JobData& data,
                       const TrainingSummary& summary, double total_seconds) {
  Json result;
  result["status"] = "succeeded";
  result["steps"] = summary.outcome.steps;
  result["total_steps"] = summary.total_steps;
  result["epochs_started"] = summary.epochs_started;
  result["samples_seen"] = summary.samples_seen;
  result["tokens_seen"] = summary.tokens_seen;
  result["resumed_from_step"] = summary.resumed_from_step;      // 0: this run started from scratch
  result["checkpoints_written"] = summary.checkpoints_written;  // by this run
  if (summary.loss_scale > 0) {  // fp16
    result["skipped_steps"] = summary.skipped_steps;
    result["final_loss_scale"] = summary.loss_scale;
  }
  const bool stopped_early = summary.validation_tracking.stopped_at_step >= 0;
  result["stopped_early"] = stopped_early;
  result["stopped_at_step"] =
      stopped_early ? Json(summary.validation_tracking.stopped_at_step) : Json(nullptr);
  // The step whose weights model.safetensors holds and the test metrics describe: the best
  // validation evaluation's with keep_best_model (which may be the last step), else the last.
  result["exported_step"] = summary.exported_step;
  result["exported_weights"] =
      options.keep_best_model && summary.validation_tracking.best_step >= 0 ? "best" : "last";
  result["validation_tracking"] = ValidationTrackingJson(options, summary);
  result["examples"] = {{"train", data.train.size()},
                        {"validation", data.validation.size()},
                        {"test", data.test.size()}};
  result["labels"] = data.label_names;

  Json metrics = Json::object();
  for (const EvalReport& report : summary.outcome.final_evals) {
    Json split = EvalReportJson(report);
    const TokenizedSplit& evaluated = report.split == "test" ? data.test : data.validation;
    if (!data.train.causal_lm()) {
      split["majority_class_accuracy"] = MajorityClassAccuracy(data, evaluated);
    } else if (report.split == "test" && summary.test_completion_examples > 0) {
      split["completion_examples"] = summary.test_completion_examples;
      split["completion_exact_match"] =
          static_cast<double>(summary.test_completion_matched) /
          static_cast<double>(summary.test_completion_examples);
      split["majority_completion_exact_match"] = summary.test_majority_completion_match;
    }
    metrics[report.split] = split;
  }
  result["metrics"] = metrics;
  result["confusion_layout"] =
      "metrics.<split>.confusion[t][p] counts examples of true label t predicted as p, in the "
      "order "
      "of labels";

  result["options"] = OptionsJson(options);
  if (!options.spec_json.empty()) {
    Json spec = Json::parse(options.spec_json, nullptr, /*allow_exceptions=*/false);
    if (spec.is_discarded()) {
      result["spec_json"] = options.spec_json;  // not JSON: keep the text as given
    } else {
      result["spec"] = spec;
    }
  }
  result["versions"] = {
      {"ft", FT_VERSION}, {"libtorch", TORCH_VERSION}, {"compiler", CompilerVersion()}};
  result["runtime"] = {{"device", summary.device},
                       {"threads", summary.threads},
                       {"cpu_replicas", summary.cpu_replicas}};
  result["pipeline"] = Json::parse(PipelineReportJson(summary.pipeline));
  const double samples_per_second =
      summary.train_seconds > 0 ? static_cast<double>(summary.samples_seen) / summary.train_seconds
                                : 0.0;
  result["timing"] = {{"train_seconds", summary.train_seconds},
                      {"eval_seconds", summary.eval_seconds},
                      {"total_seconds", total_seconds},
                      {"train_samples_per_second", samples_per_second}};
  return result.dump(2) + "\n";
}

}  // namespace ft::train
