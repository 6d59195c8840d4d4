#include "client/lib/rpc/job_follower.h"

#include <algorithm>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "client/lib/format/text_util.h"

namespace ft::client {
namespace {

// A stream that lived this long had connected, even if the job was quiet meanwhile.
constexpr absl::Duration kHealthyStream = absl::Seconds(30);

}  // namespace

absl::StatusOr<ft::v1::JobState> FollowJob(const FtdConnection& ftd, const FollowOptions& options,
                                           WatchDisplay& display, std::ostream& err,
                                           CancelToken* token) {
  uint64_t last_seq = options.after_seq;
  std::optional<absl::Time> outage_start;  // set while the stream is down
  absl::Duration backoff = options.first_backoff;
  while (true) {
    grpc::ClientContext context;
    if (token != nullptr && !token->Track(&context)) return absl::CancelledError("interrupted");
    ftd.AddCredentials(&context);
    if (options.deadline != absl::InfiniteFuture()) {
      context.set_deadline(absl::ToChronoTime(options.deadline));
    }
    ft::v1::WatchJobRequest request;
    request.set_job_id(options.job_id);
    request.set_after_seq(last_seq);
    const absl::Time opened = absl::Now();
    std::unique_ptr<grpc::ClientReaderInterface<ft::v1::JobEvent>> reader =
        ftd.stub->WatchJob(&context, request);
    std::optional<ft::v1::JobState> final_state;
    bool got_event = false;
    ft::v1::JobEvent event;
    while (reader->Read(&event)) {
      if (event.seq() <= last_seq) continue;  // already shown (a replay after a reconnect)
      last_seq = event.seq();
      got_event = true;
      if (outage_start) {
        display.Note(err, "ftctl: reconnected to ftd; watching again");
        outage_start.reset();
        backoff = options.first_backoff;
      }
      display.OnEvent(event);
      if (event.has_state_change() && IsFinalState(event.state_change().to())) {
        final_state = event.state_change().to();
      }
    }
    const grpc::Status status = reader->Finish();
    if (token != nullptr) token->Track(nullptr);
    if (token != nullptr && token->cancelled()) return absl::CancelledError("interrupted");
    if (final_state) return *final_state;
    if (absl::Now() >= options.deadline) return absl::DeadlineExceededError("timed out");

    // The stream ended before the job did. Only a lost connection is worth another try.
    const bool retryable = status.ok() || status.error_code() == grpc::StatusCode::UNAVAILABLE ||
                           status.error_code() == grpc::StatusCode::CANCELLED;
    if (!retryable) return ftd.ToStatus(status);
    const absl::Time now = absl::Now();
    if (outage_start && !got_event && now - opened >= kHealthyStream) outage_start.reset();
    if (!outage_start) {
      outage_start = now;
      backoff = options.first_backoff;
      display.Note(err, absl::StrCat("ftctl: lost the event stream from ftd at ", ftd.server, " (",
                                     status.ok() ? "ended early" : status.error_message(),
                                     "); reconnecting"));
    }
    if (now + backoff - *outage_start > options.reconnect_budget) {
      if (status.ok()) {
        return absl::UnavailableError(
            absl::StrCat("the event stream of ", options.job_id, " keeps ending early"));
      }
      return ftd.ToStatus(status);
    }
    const absl::Duration pause = std::min(backoff, options.deadline - now);
    if (token == nullptr) {
      absl::SleepFor(pause);
    } else if (!token->SleepFor(pause)) {
      return absl::CancelledError("interrupted");
    }
    backoff = std::min(backoff * 2, options.max_backoff);
  }
}

}  // namespace ft::client
