#include "server/notify/retry_schedule.h"

#include <algorithm>

namespace ft::notify {

absl::Duration RetryDelay(const RetrySchedule& schedule, int failed_attempts, double unit) {
  absl::Duration delay = schedule.base;
  // Doubling stops at the cap, so a long outage never overflows the duration.
  for (int i = 1; i < failed_attempts && delay < schedule.max_delay; ++i) delay *= 2;
  delay = std::min(delay, schedule.max_delay);
  return delay * (0.5 + 0.5 * std::clamp(unit, 0.0, 1.0));
}

std::optional<absl::Time> NextAttempt(const RetrySchedule& schedule, absl::Time created,
                                      absl::Time now, int failed_attempts, double unit) {
  const absl::Time next = now + RetryDelay(schedule, failed_attempts, unit);
  if (next > created + schedule.give_up_after) return std::nullopt;
  return next;
}

}  // namespace ft::notify
