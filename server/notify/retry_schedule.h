// When a failed webhook delivery is tried again: exponential backoff with jitter, until a time
// after the event when ftd gives up.
//
//   delay after the n-th failed attempt = min(base * 2^(n-1), max_delay) * (0.5 + 0.5 * u),
//   u uniform in [0, 1)
//
// The jitter spreads the retries of many deliveries to one receiver that came back, instead of
// sending them all in the same instant. Defaults: 5 s, 10 s, 20 s, ... capped at one hour, given
// up 24 hours after the event (about 30 attempts).
#pragma once

#include <optional>

#include "absl/time/time.h"

namespace ft::notify {

struct RetrySchedule {
  absl::Duration base = absl::Seconds(5);  // --webhook-retry-base-seconds
  absl::Duration max_delay = absl::Hours(1);
  absl::Duration give_up_after = absl::Hours(24);  // --webhook-give-up-seconds
};

// The delay after `failed_attempts` (>= 1) failures, for a jitter draw `unit` in [0, 1).
absl::Duration RetryDelay(const RetrySchedule& schedule, int failed_attempts, double unit);

// When to try again an event created at `created` that has now failed `failed_attempts` times;
// nullopt when that time would be past created + give_up_after (give up now).
std::optional<absl::Time> NextAttempt(const RetrySchedule& schedule, absl::Time created,
                                      absl::Time now, int failed_attempts, double unit);

}  // namespace ft::notify
