#include "server/sched/submit_policy.h"

#include <limits.h>
#include <stdlib.h>

#include <filesystem>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "server/housekeeping/disk_usage.h"
#include "common/fetch/hub_model.h"
#include "common/models/model_folder.h"
#include "common/spec/spec_limits.h"
#include "common/util/status_macros.h"
#include "server/notify/webhook_url.h"

namespace ft::sched {
namespace {

std::optional<std::string> RealPath(const std::string& path) {
  char resolved[PATH_MAX];
  if (realpath(path.c_str(), resolved) == nullptr) return std::nullopt;
  return std::string(resolved);
}

std::string Bytes(uint64_t bytes) {
  if (bytes >= (1ull << 30)) return absl::StrFormat("%.1f GiB", bytes / double(1ull << 30));
  if (bytes >= (1ull << 20)) return absl::StrFormat("%.1f MiB", bytes / double(1ull << 20));
  return absl::StrCat(bytes, " bytes");
}

// Resolves `*path` in place, or explains why it may not be used.
absl::Status CheckPath(const SubmitLimits& limits, const std::string& field, std::string* path,
                       bool is_dataset) {
  if (path->empty()) return absl::OkStatus();
  // The system would open the path only up to the NUL: another file than the one named.
  if (path->find('\0') != std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": contains a NUL byte"));
  }
  const std::optional<std::string> resolved = RealPath(*path);
  // A missing path is judged by its own spelling, so that whether something outside the roots
  // exists is not told.
  const std::string judged =
      resolved ? *resolved : std::filesystem::path(*path).lexically_normal().string();
  if (!limits.data_roots.empty()) {
    bool inside = false;
    for (const std::string& root : limits.data_roots) inside = inside || IsUnder(judged, root);
    if (!inside) {
      return absl::PermissionDeniedError(
          absl::StrCat(field, ": ", *path, " is outside the data roots (",
                       absl::StrJoin(limits.data_roots, ", "),
                       "); ftd reads datasets and models only from its --data-root folders"));
    }
  }
  if (!resolved) return absl::NotFoundError(absl::StrCat(field, ": ", *path, ": no such file"));
  if (is_dataset && limits.max_dataset_bytes > 0) {
    const uint64_t size = housekeeping::DiskUsage(*resolved, limits.max_dataset_bytes);
    if (size > limits.max_dataset_bytes) {
      return absl::ResourceExhaustedError(
          absl::StrCat(field, ": ", *path, " holds more than ", Bytes(limits.max_dataset_bytes),
                       ", the limit of --max-dataset-bytes (", limits.max_dataset_bytes, ")"));
    }
  }
  *path = *resolved;
  return absl::OkStatus();
}

}  // namespace

bool IsUnder(const std::string& path, const std::string& root) {
  if (root == "/") return !path.empty() && path[0] == '/';
  if (path.size() < root.size() || path.compare(0, root.size(), root) != 0) return false;
  return path.size() == root.size() || path[root.size()] == '/';
}

absl::StatusOr<std::vector<std::string>> ResolveDataRoots(const std::vector<std::string>& roots) {
  std::vector<std::string> resolved;
  for (const std::string& root : roots) {
    std::optional<std::string> real = RealPath(root);
    std::error_code error;
    if (!real || !std::filesystem::is_directory(*real, error)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--data-root: ", root, " is not an existing folder"));
    }
    resolved.push_back(*real);
  }
  return resolved;
}

absl::Status ApplySubmitLimits(const SubmitLimits& limits, ft::v1::JobSpec& spec) {
  FT_RETURN_IF_ERROR(notify::CheckJobWebhookUrls(spec.notify(), limits.webhook_policy));
  ft::v1::DatasetSpec* dataset = spec.mutable_dataset();
  struct Field {
    const char* name;
    std::string* path;
    bool is_dataset;
  };
  std::string model = spec.model();
  // A Hub id ("org/name", never absolute once defaults are applied) is fetched by the worker into
  // its cache, not read from the data roots.
  const bool model_is_path = !model.empty() && !models::IsScratchModelName(model) &&
                             !fetch::ParseHubModelId(model);
  std::string train = dataset->train(), validation = dataset->validation(), test = dataset->test();
  std::vector<Field> fields = {{"spec.dataset.train", &train, true},
                               {"spec.dataset.validation", &validation, true},
                               {"spec.dataset.test", &test, true}};
  if (model_is_path) fields.push_back({"spec.model", &model, false});
  // Another tokenizer is read like a model folder: from the same roots.
  std::string tokenizer = spec.tokenizer();
  if (!tokenizer.empty()) fields.push_back({"spec.tokenizer", &tokenizer, false});
  for (const Field& field : fields) {
    if (absl::Status status = CheckPath(limits, field.name, field.path, field.is_dataset);
        !status.ok()) {
      return status;
    }
  }
  dataset->set_train(train);
  dataset->set_validation(validation);
  dataset->set_test(test);
  if (model_is_path) spec.set_model(model);
  spec.set_tokenizer(tokenizer);
  // Lengths past the spec's own bound are validation's to refuse (INVALID_ARGUMENT).
  if (limits.max_seq_length > 0 && spec.max_seq_length() > limits.max_seq_length &&
      spec.max_seq_length() <= spec::kMaxSeqLength) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "spec.max_seq_length: ", spec.max_seq_length(),
        " is more than this server allows (--max-seq-length-limit ", limits.max_seq_length, ")"));
  }
  return absl::OkStatus();
}

}  // namespace ft::sched
