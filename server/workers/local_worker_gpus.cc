#include "server/workers/local_worker_gpus.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace ft::workers {
namespace {

bool IsIndex(absl::string_view entry) {
  return !entry.empty() && entry.size() <= 4 &&
         std::all_of(entry.begin(), entry.end(), absl::ascii_isdigit);
}

// A UUID as nvidia-smi -L prints it: GPU-<hex and dashes>, or MIG-<hex and dashes> (newer
// drivers) or MIG-GPU-<uuid>/<instance>/<instance> (older ones).
bool IsUuid(absl::string_view entry) {
  const bool gpu = absl::StartsWith(entry, "GPU-");
  if (!gpu && !absl::StartsWith(entry, "MIG-")) return false;
  const absl::string_view rest = entry.substr(4);
  return !rest.empty() && std::all_of(rest.begin(), rest.end(), [gpu](char c) {
    return absl::ascii_isxdigit(c) || c == '-' || (!gpu && (absl::ascii_isalnum(c) || c == '/'));
  });
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ParseLocalWorkerGpus(const std::string& list) {
  std::vector<std::string> gpus;
  std::set<std::string> seen;
  for (absl::string_view entry : absl::StrSplit(list, ',')) {
    entry = absl::StripAsciiWhitespace(entry);
    if (!IsIndex(entry) && !IsUuid(entry)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--local-worker-gpus: '", entry,
                       "' is not a GPU index (0, 1, ...) or UUID (GPU-..., MIG-...); expected a "
                       "comma-separated list such as 0,1,2,3"));
    }
    if (!seen.insert(std::string(entry)).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--local-worker-gpus: GPU ", entry, " is listed twice (one GPU per local worker)"));
    }
    gpus.emplace_back(entry);
  }
  return gpus;
}

absl::StatusOr<int> LocalWorkerCount(int requested, const std::vector<std::string>& gpus) {
  if (gpus.empty()) return requested < 0 ? 1 : requested;
  const int count = static_cast<int>(gpus.size());
  if (requested >= 0 && requested != count) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--local-worker-gpus names ", count, " GPUs but --local-workers is ", requested,
        ": each local worker gets one GPU (leave --local-workers out to start one per GPU)"));
  }
  return count;
}

}  // namespace ft::workers
