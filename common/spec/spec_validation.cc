#include "common/spec/spec_validation.h"

#include "common/spec/causal_lm_validation.h"

#include <cmath>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/data/dataset.h"
#include "common/fetch/hub_model.h"
#include "common/fetch/named_dataset.h"
#include "common/data/excerpt.h"
#include "common/models/model_catalog.h"
#include "common/models/model_folder.h"
#include "common/spec/batch_geometry.h"
#include "common/spec/data_parallel_validation.h"
#include "common/spec/evaluate_only_validation.h"
#include "common/spec/lora_validation.h"
#include "common/spec/spec_limits.h"
#include "common/spec/tokenizer_validation.h"

namespace ft::spec {
namespace {

// Collects every problem so that one answer names all of them; the first problem's code wins.
class Problems {
 public:
  void Add(absl::StatusCode code, std::string message) {
    if (messages_.empty()) code_ = code;
    messages_.push_back(std::move(message));
  }
  void Invalid(std::string message) { Add(absl::StatusCode::kInvalidArgument, std::move(message)); }
  absl::Status ToStatus() const {
    if (messages_.empty()) return absl::OkStatus();
    return absl::Status(code_, absl::StrJoin(messages_, "; "));
  }

 private:
  absl::StatusCode code_ = absl::StatusCode::kOk;
  std::vector<std::string> messages_;
};

void CheckRange(Problems& problems, const char* field, uint64_t value, uint64_t min, uint64_t max) {
  if (value < min || value > max) {
    problems.Invalid(absl::StrCat("spec.", field, ": must be ", min, "..", max, ", got ", value));
  }
}

void CheckReal(Problems& problems, const char* field, double value, double min, double max,
               bool min_exclusive) {
  const bool below = min_exclusive ? !(value > min) : !(value >= min);
  if (!std::isfinite(value) || below || value > max) {
    problems.Invalid(absl::StrCat("spec.", field, ": must be a finite number in ",
                                  min_exclusive ? "(" : "[", min, ", ", max, "], got ", value));
  }
}

void CheckModel(Problems& problems, const std::string& model) {
  if (model.empty()) {
    problems.Invalid(
        absl::StrCat("spec.model: required (one of ", models::ScratchModelNames(), ")"));
  } else if (fetch::ParseHubModelId(model) && !std::filesystem::exists(model)) {
    // A Hub id: the worker downloads (or finds in its cache) and checks it.
  } else if (!models::IsScratchModelName(model)) {
    try {
      models::ReadModelFolderConfig(model);  // a local Hugging Face folder
    } catch (const models::ModelFolderError& e) {
      problems.Add(e.not_found() ? absl::StatusCode::kNotFound : absl::StatusCode::kInvalidArgument,
                   absl::StrCat("spec.model: ", e.what()));
    }
  } else if (!models::FindScratchModel(model)) {
    problems.Invalid(absl::StrCat("spec.model: unknown model '", model, "'; this version trains ",
                                  models::ScratchModelNames(), " or a local model folder"));
  }
}

// Checks one dataset file: it exists, has the right kind, and offers the named columns.
void CheckDatasetFile(Problems& problems, const char* field, const ft::v1::DatasetSpec& dataset,
                      const std::string& path) {
  data::DatasetSource source;
  source.path = path;
  source.format = data::ParseFormat(dataset.format());
  source.text_column = dataset.text_column();
  source.label_column = dataset.label_column();
  const std::string where = absl::StrCat("spec.dataset.", field, " (", path, ")");
  std::error_code error;
  const auto status = std::filesystem::status(path, error);
  if (!std::filesystem::exists(status)) {
    problems.Add(absl::StatusCode::kNotFound, absl::StrCat(where, ": no such file or directory"));
    return;
  }
  try {
    const data::DatasetHeader header = data::ReadHeader(source);
    for (const std::string* column : {&dataset.text_column(), &dataset.label_column()}) {
      bool found = false;
      for (const std::string& name : header.columns) found = found || name == *column;
      if (!found) {
        problems.Invalid(absl::StrCat(where, ": no column '", *column,
                                      "' (columns: ", data::ExcerptList(header.columns, 8, /*quoted=*/false), ")"));
      }
    }
  } catch (const data::DataError& e) {
    problems.Invalid(absl::StrCat(where, ": ", e.what()));
  }
}

void CheckDataset(Problems& problems, const ft::v1::DatasetSpec& dataset) {
  if (!dataset.format().empty() && !data::ParseFormat(dataset.format())) {
    problems.Invalid(absl::StrCat("spec.dataset.format: unknown format '", dataset.format(),
                                  "' (expected csv, tsv, jsonl or aclimdb, or empty to infer)"));
    return;
  }
  if (!dataset.name().empty()) {
    if (!fetch::IsNamedDataset(dataset.name())) {
      problems.Add(absl::StatusCode::kNotFound,
                   absl::StrCat("spec.dataset.name: unknown dataset '", dataset.name(),
                                "' (known: ", absl::StrJoin(fetch::NamedDatasets(), ", "), ")"));
    }
    for (const auto& [field, value] : {std::pair{"train", &dataset.train()},
                                       std::pair{"validation", &dataset.validation()},
                                       std::pair{"test", &dataset.test()}}) {
      if (!value->empty()) {
        problems.Invalid(absl::StrCat("spec.dataset.", field, ": must be empty with "
                                      "spec.dataset.name (the named dataset has its own splits)"));
      }
    }
    return;
  }
  if (dataset.train().empty()) {
    problems.Invalid("spec.dataset.train: required (a CSV, TSV, JSONL file or aclImdb folder, "
                     "or spec.dataset.name)");
  } else {
    CheckDatasetFile(problems, "train", dataset, dataset.train());
  }
  if (!dataset.validation().empty()) {
    CheckDatasetFile(problems, "validation", dataset, dataset.validation());
  } else {
    CheckReal(problems, "dataset.validation_fraction", dataset.validation_fraction(), 0, 0.9,
              /*min_exclusive=*/true);
  }
  if (!dataset.test().empty()) CheckDatasetFile(problems, "test", dataset, dataset.test());
}

// task, lr_scheduler, model_dropout, label_smoothing and early stopping.
void CheckTrainingKnobs(Problems& problems, const ft::v1::JobSpec& spec) {
  const std::string& task = spec.task();
  if (!task.empty() && task != "sequence_classification" && task != "causal_lm") {
    problems.Invalid(absl::StrCat("spec.task: unknown task '", task,
                                  "' (expected sequence_classification or causal_lm)"));
  }
  if (spec.train_on_prompt() && task != "causal_lm") {
    problems.Invalid("spec.train_on_prompt: only for task causal_lm");
  }
  if (spec.packing() && task != "causal_lm") {
    problems.Invalid("spec.packing: only for task causal_lm (a classifier's examples each need "
                     "their own row)");
  }
  const std::string& scheduler = spec.lr_scheduler();
  // Empty (a spec stored before the field existed) means the default, linear.
  if (!scheduler.empty() && scheduler != "linear" && scheduler != "cosine" &&
      scheduler != "constant") {
    problems.Invalid(absl::StrCat("spec.lr_scheduler: unknown schedule '", scheduler,
                                  "' (expected linear, cosine or constant)"));
  }
  const std::string& dropout = spec.model_dropout();
  if (!dropout.empty() && dropout != "config" && dropout != "off") {
    problems.Invalid(absl::StrCat("spec.model_dropout: unknown value '", dropout,
                                  "' (expected config or off)"));
  }
  const double smoothing = spec.label_smoothing();
  if (!std::isfinite(smoothing) || smoothing < 0 || smoothing >= 1) {
    problems.Invalid(
        absl::StrCat("spec.label_smoothing: must be a finite number in [0, 1), got ", smoothing));
  }
  CheckRange(problems, "early_stopping_patience", spec.early_stopping_patience(), 0,
             kMaxEarlyStoppingPatience);
  const std::string& metric = spec.early_stopping_metric();
  const bool used = spec.early_stopping_patience() > 0 || spec.keep_best_model();
  if (!metric.empty() && metric != "accuracy" && metric != "loss" && metric != "macro_f1") {
    problems.Invalid(absl::StrCat("spec.early_stopping_metric: unknown metric '", metric,
                                  "' (expected accuracy, loss or macro_f1)"));
  } else if (!metric.empty() && !used) {
    problems.Invalid(absl::StrCat("spec.early_stopping_metric: '", metric,
                                  "' is set but unused: set early_stopping_patience > 0 or "
                                  "keep_best_model"));
  }
}

// A NUL byte in a path: the system would see only the part before it (another file than the one
// checked, and a way around any path rule), so it is refused outright.
bool HasNul(Problems& problems, const char* field, const std::string& path) {
  if (path.find('\0') == std::string::npos) return false;
  problems.Invalid(absl::StrCat("spec.", field, ": contains a NUL byte"));
  return true;
}

}  // namespace

absl::Status ValidateSpec(const ft::v1::JobSpec& spec) {
  Problems problems;
  const ft::v1::DatasetSpec& dataset = spec.dataset();
  const bool nul_model = HasNul(problems, "model", spec.model());
  const bool nul_tokenizer = HasNul(problems, "tokenizer", spec.tokenizer());
  bool nul_data = HasNul(problems, "dataset.train", dataset.train());
  nul_data = HasNul(problems, "dataset.validation", dataset.validation()) || nul_data;
  nul_data = HasNul(problems, "dataset.test", dataset.test()) || nul_data;
  // The checks below read files; whatever they throw is this spec's problem, not the caller's.
  try {
    if (!nul_model) CheckModel(problems, spec.model());
  } catch (const std::exception& e) {
    problems.Invalid(absl::StrCat("spec.model: ", e.what()));
  }
  if (auto geometry = ResolveBatchGeometry(spec); !geometry.ok()) {
    problems.Invalid(std::string(geometry.status().message()));
  }
  CheckRange(problems, "epochs", spec.epochs(), 1, kMaxEpochs);
  CheckRange(problems, "max_seq_length", spec.max_seq_length(), 1, kMaxSeqLength);
  CheckRange(problems, "log_every_steps", spec.log_every_steps(), 1, kMaxLogEverySteps);
  CheckRange(problems, "warmup_steps", spec.warmup_steps(), 0, kMaxWarmupSteps);
  CheckReal(problems, "learning_rate", spec.learning_rate(), 0, kMaxLearningRate,
            /*min_exclusive=*/true);
  CheckReal(problems, "weight_decay", spec.weight_decay(), 0, 1, /*min_exclusive=*/false);
  CheckReal(problems, "max_grad_norm", spec.max_grad_norm(), 0, 1e6, /*min_exclusive=*/false);
  if (spec.optimizer() != "adamw" && spec.optimizer() != "sgd") {
    problems.Invalid(absl::StrCat("spec.optimizer: unknown optimizer '", spec.optimizer(),
                                  "' (expected adamw or sgd)"));
  }
  if (spec.precision() != "fp32" && spec.precision() != "bf16" && spec.precision() != "fp16") {
    problems.Invalid(absl::StrCat("spec.precision: '", spec.precision(),
                                  "' is not supported (expected fp32, bf16 or fp16)"));
  }
  CheckTrainingKnobs(problems, spec);
  for (std::string& problem : LoraProblems(spec)) problems.Invalid(std::move(problem));
  for (std::string& problem : DataParallelProblems(spec)) problems.Invalid(std::move(problem));
  for (std::string& problem : EvaluateOnlyProblems(spec)) problems.Invalid(std::move(problem));
  if (!nul_model && !nul_tokenizer) {
    for (std::string& problem : TokenizerProblems(spec)) problems.Invalid(std::move(problem));
  }
  if (spec.display_name().size() > 200) {
    problems.Invalid("spec.display_name: at most 200 bytes");
  }
  try {
    if (!nul_data && spec.task() == "causal_lm") {
      if (dataset.validation().empty()) {
        CheckReal(problems, "dataset.validation_fraction", dataset.validation_fraction(), 0, 0.9,
                  /*min_exclusive=*/true);
      }
      for (std::string& problem : CausalLmProblems(spec)) problems.Invalid(std::move(problem));
    } else if (!nul_data) {
      CheckDataset(problems, dataset);
    }
  } catch (const std::exception& e) {
    problems.Invalid(absl::StrCat("spec.dataset: ", e.what()));
  }
  return problems.ToStatus();
}

}  // namespace ft::spec
