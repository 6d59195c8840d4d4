// Which workers (local or remote) ftd has heard from lately: every AcquireJob poll and every
// heartbeat or report of a lease counts as contact. Feeds ft_workers_connected and readiness.
#pragma once

#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace ft::sched {

class WorkerRegistry {
 public:
  void Seen(const std::string& worker_id, absl::Time now);
  // Workers heard from within `window` before `now`; forgets those silent for 10 windows.
  int Connected(absl::Time now, absl::Duration window);

 private:
  absl::Mutex mu_;
  std::map<std::string, absl::Time> last_seen_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ft::sched
