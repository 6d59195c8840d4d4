// The workers that asked for work lately and got none: the pool a data-parallel gang is formed
// from (gang_plan.h). A worker leaves it when it gets a lease, or when it has not asked within
// the window (it died, or took work elsewhere).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace ft::sched {

// Not thread-safe: the job manager calls it under its acquire lock.
class IdleWorkers {
 public:
  explicit IdleWorkers(absl::Duration window) : window_(window) {}

  void Asked(const std::string& worker_id, absl::Time now) { last_asked_[worker_id] = now; }
  void Busy(const std::string& worker_id) { last_asked_.erase(worker_id); }
  // Idle workers other than `except`, the most recent askers first (the likeliest to ask again
  // within the lease timeout and pick up their rank's lease); forgets those past the window.
  std::vector<std::string> Others(const std::string& except, absl::Time now);

 private:
  const absl::Duration window_;
  std::map<std::string, absl::Time> last_asked_;
};

}  // namespace ft::sched
