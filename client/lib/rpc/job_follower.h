// Follows one job's WatchJob stream to its end, reconnecting when the stream breaks: each new
// stream asks for the events after the last one seen, so nothing is missed or shown twice.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/lib/display/watch_display.h"
#include "client/lib/rpc/cancel_token.h"
#include "client/lib/rpc/ftd_calls.h"
#include "ft/v1/job.pb.h"

namespace ft::client {

struct FollowOptions {
  std::string job_id;
  uint64_t after_seq = 0;  // show events after this one (0: the whole log)
  // Give up after the stream has been down this long without an event getting through.
  absl::Duration reconnect_budget = absl::Seconds(30);
  absl::Duration first_backoff = absl::Milliseconds(250);
  absl::Duration max_backoff = absl::Seconds(4);
  // Stop following at this time (`ftctl wait --timeout`): DEADLINE_EXCEEDED "timed out".
  absl::Time deadline = absl::InfiniteFuture();
};

// Shows each event on `display` (ftctl's own notes go to `err` through it) and returns the job's
// final state once a final state change has been seen. The stream has no deadline. Reconnects
// after UNAVAILABLE (or an unexpected end) with exponential back-off within the budget.
// CANCELLED when `token` was cancelled (Ctrl-C); DEADLINE_EXCEEDED once `deadline` passed; otherwise the status of the failed call, e.g.
// NOT_FOUND for an unknown job.
absl::StatusOr<ft::v1::JobState> FollowJob(const FtdConnection& ftd, const FollowOptions& options,
                                           WatchDisplay& display, std::ostream& err,
                                           CancelToken* token);

}  // namespace ft::client
