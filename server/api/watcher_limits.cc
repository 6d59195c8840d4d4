#include "server/api/watcher_limits.h"

#include "absl/strings/str_cat.h"

namespace ft::api {

absl::StatusOr<std::unique_ptr<WatcherLimits::Slot>> WatcherLimits::Acquire(
    const std::string& job_id) {
  absl::MutexLock lock(&mu_);
  if (max_total_ > 0 && total_ >= max_total_) {
    return absl::ResourceExhaustedError(absl::StrCat("--max-watchers: ", total_,
                                                     " WatchJob streams are open (limit ",
                                                     max_total_, "); retry later"));
  }
  auto it = per_job_.find(job_id);
  const int count = it == per_job_.end() ? 0 : it->second;
  if (max_per_job_ > 0 && count >= max_per_job_) {
    return absl::ResourceExhaustedError(absl::StrCat("--max-watchers-per-job: ", count,
                                                     " streams already watch ", job_id, " (limit ",
                                                     max_per_job_, ")"));
  }
  ++per_job_[job_id];
  ++total_;
  return std::make_unique<Slot>(this, job_id);
}

void WatcherLimits::Release(const std::string& job_id) {
  absl::MutexLock lock(&mu_);
  --total_;
  auto it = per_job_.find(job_id);
  if (it != per_job_.end() && --it->second <= 0) per_job_.erase(it);
}

int WatcherLimits::total() {
  absl::MutexLock lock(&mu_);
  return total_;
}

}  // namespace ft::api
