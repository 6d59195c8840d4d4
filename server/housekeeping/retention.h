// The retention policy for ended jobs, applied periodically by ftd: checkpoints of succeeded jobs
// are removed (the exported model stays) unless kept, and whole jobs (record, events, folder) are
// deleted, oldest ended first, when older than max_age, beyond the newest max_jobs, or while
// their folders together exceed disk_budget_bytes.
#pragma once

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "server/sched/clock.h"
#include "server/sched/job_manager.h"
#include "server/store/job_store.h"

namespace ft::housekeeping {

struct RetentionOptions {
  absl::Duration max_age = absl::Hours(24 * 30);  // 0: no age limit
  int max_jobs = 1000;                            // ended jobs kept; 0: no count limit
  uint64_t disk_budget_bytes = 50ull << 30;       // their folders together; 0: no budget
  bool keep_checkpoints = false;                  // keep succeeded jobs' checkpoints/
  // <home>/cache/tokens, least recently used entries first (token_cache_trim.h); 0: no budget
  uint64_t token_cache_budget_bytes = 20ull << 30;
};

struct RetentionResult {
  int jobs_deleted = 0;
  int checkpoints_removed = 0;
  uint64_t bytes_freed = 0;
};

class Retention {
 public:
  // `home` is ftd's; only folders under <home>/jobs are touched. Nothing is owned.
  Retention(RetentionOptions options, std::string home, store::JobStore* store,
            sched::JobManager* manager, sched::Clock* clock)
      : options_(options),
        home_(std::move(home)),
        store_(store),
        manager_(manager),
        clock_(clock) {}

  absl::StatusOr<RetentionResult> RunOnce();

 private:
  const RetentionOptions options_;
  const std::string home_;
  store::JobStore* const store_;
  sched::JobManager* const manager_;
  sched::Clock* const clock_;
};

}  // namespace ft::housekeeping
