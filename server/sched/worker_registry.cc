#include "server/sched/worker_registry.h"

namespace ft::sched {

void WorkerRegistry::Seen(const std::string& worker_id, absl::Time now) {
  absl::MutexLock lock(&mu_);
  absl::Time& last = last_seen_[worker_id];
  if (now > last) last = now;
}

int WorkerRegistry::Connected(absl::Time now, absl::Duration window) {
  absl::MutexLock lock(&mu_);
  int connected = 0;
  for (auto it = last_seen_.begin(); it != last_seen_.end();) {
    const absl::Duration silent = now - it->second;
    if (silent > 10 * window) {
      it = last_seen_.erase(it);
      continue;
    }
    if (silent <= window) ++connected;
    ++it;
  }
  return connected;
}

}  // namespace ft::sched
