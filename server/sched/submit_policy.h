// What a submission may ask for on this server, beyond the spec's own bounds: dataset and model
// paths only under the configured data roots (resolved, so no `..` or symlink leads out), datasets
// no larger than a budget, sequences no longer than a limit. Applied before validation reads any
// file, so a path outside the roots is never opened.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ft/v1/job.pb.h"
#include "server/notify/address_policy.h"

namespace ft::sched {

struct SubmitLimits {
  // Resolved (realpath) folders that datasets and model folders must lie in; empty: any path.
  std::vector<std::string> data_roots;
  uint64_t max_dataset_bytes = 0;    // per dataset file or folder; 0: no limit
  uint32_t max_seq_length = 0;       // 0: only the spec's own bound
  int max_queued_jobs_per_user = 0;  // 0: no per-user limit (applied by JobManager::Submit)
  notify::AddressPolicy webhook_policy;  // which hosts spec.notify may name
};

// Resolves each root (realpath); INVALID_ARGUMENT naming --data-root for one that is missing or
// not a folder.
absl::StatusOr<std::vector<std::string>> ResolveDataRoots(const std::vector<std::string>& roots);

// Checks `spec` (absolute paths, after WithDefaults) and replaces its paths with their resolved
// form, so that the worker reads what was checked. PERMISSION_DENIED naming the field for a path
// outside the roots (whether or not it exists), NOT_FOUND for a missing one inside,
// RESOURCE_EXHAUSTED naming the limit for a dataset or sequence length over it, INVALID_ARGUMENT
// naming spec.notify[i] for a webhook URL that is malformed or names an internal host.
absl::Status ApplySubmitLimits(const SubmitLimits& limits, ft::v1::JobSpec& spec);

// True when `path` (resolved) is `root` or inside it.
bool IsUnder(const std::string& path, const std::string& root);

}  // namespace ft::sched
