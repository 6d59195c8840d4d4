#include "server/housekeeping/retention.h"

#include <algorithm>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "common/util/status_macros.h"
#include "common/util/time_util.h"
#include "server/housekeeping/disk_usage.h"
#include "spdlog/spdlog.h"

namespace ft::housekeeping {
namespace fs = std::filesystem;

absl::StatusOr<RetentionResult> Retention::RunOnce() {
  RetentionResult result;
  FT_ASSIGN_OR_RETURN(
      std::vector<ft::v1::Job> ended,
      store_->JobsInStates({ft::v1::SUCCEEDED, ft::v1::FAILED, ft::v1::CANCELLED}, INT32_MAX));
  // Oldest ended first; creation order breaks ties.
  std::stable_sort(ended.begin(), ended.end(), [](const ft::v1::Job& a, const ft::v1::Job& b) {
    return FromProtoTime(a.end_time()) < FromProtoTime(b.end_time());
  });
  const fs::path jobs_dir = (fs::path(home_) / "jobs").lexically_normal();
  auto own_folder = [&](const ft::v1::Job& job) -> std::optional<fs::path> {
    const fs::path folder = fs::path(job.output_dir()).lexically_normal();
    if (folder.parent_path() != jobs_dir || folder.filename() != job.id()) return std::nullopt;
    return folder;
  };

  if (!options_.keep_checkpoints) {
    for (const ft::v1::Job& job : ended) {
      if (job.state() != ft::v1::SUCCEEDED) continue;
      std::optional<fs::path> folder = own_folder(job);
      if (!folder) continue;
      const fs::path checkpoints = *folder / "checkpoints";
      std::error_code error;
      if (!fs::exists(checkpoints, error)) continue;
      const uint64_t size = DiskUsage(checkpoints.string());
      fs::remove_all(checkpoints, error);
      if (error) {
        spdlog::warn("{}: cannot remove {}: {}", job.id(), checkpoints.string(), error.message());
        continue;
      }
      ++result.checkpoints_removed;
      result.bytes_freed += size;
    }
  }

  const absl::Time now = clock_->Now();
  std::vector<uint64_t> sizes(ended.size(), 0);
  uint64_t total = 0;
  for (size_t i = 0; i < ended.size(); ++i) {
    if (std::optional<fs::path> folder = own_folder(ended[i])) {
      sizes[i] = DiskUsage(folder->string());
    }
    total += sizes[i];
  }
  size_t remaining = ended.size();
  for (size_t i = 0; i < ended.size(); ++i) {
    const ft::v1::Job& job = ended[i];
    std::string why;
    if (options_.max_age > absl::ZeroDuration() &&
        now - FromProtoTime(job.end_time()) > options_.max_age) {
      why = absl::StrCat("retention: ended more than ", absl::FormatDuration(options_.max_age),
                         " ago (--retention-max-age-hours)");
    } else if (options_.max_jobs > 0 && remaining > static_cast<size_t>(options_.max_jobs)) {
      why = absl::StrCat("retention: more than ", options_.max_jobs,
                         " ended jobs (--retention-max-jobs)");
    } else if (options_.disk_budget_bytes > 0 && total > options_.disk_budget_bytes) {
      why = absl::StrCat("retention: ended jobs' folders use ", total, " bytes, over ",
                         options_.disk_budget_bytes, " (--retention-disk-budget-mb)");
    } else {
      continue;
    }
    absl::StatusOr<uint64_t> freed = manager_->Delete(job.id(), why);
    if (!freed.ok()) {
      // Deleted meanwhile by its owner: not an error.
      if (!absl::IsNotFound(freed.status())) {
        spdlog::warn("{}: retention could not delete it: {}", job.id(), freed.status().ToString());
      }
      continue;
    }
    ++result.jobs_deleted;
    result.bytes_freed += *freed;
    total -= std::min(total, sizes[i]);
    --remaining;
  }
  return result;
}

}  // namespace ft::housekeeping
