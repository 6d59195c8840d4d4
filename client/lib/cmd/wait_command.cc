#include "client/lib/cmd/wait_command.h"

#include "absl/strings/str_cat.h"
#include "client/lib/format/job_format.h"
#include "client/lib/format/text_util.h"
#include "client/lib/rpc/job_follower.h"
#include "client/lib/rpc/rpc_errors.h"

namespace ft::client {
namespace {

// Shows nothing: `wait` is for scripts. Reconnect notes still go to stderr.
class QuietDisplay final : public WatchDisplay {
 public:
  void OnEvent(const ft::v1::JobEvent&) override {}
  void Note(std::ostream& stream, const std::string& line) override { stream << line << std::endl; }
  void Close() override {}
};

int PrintFinal(const ft::v1::Job& job, const WaitArgs& args, const Console& console) {
  const int printed = PrintJob(job, args.output, FormatFinalSummary(job, console.palette), console);
  return printed != kExitOk ? printed : ExitCodeForFinalState(job.state());
}

}  // namespace

int RunWait(const FtdConnection& ftd, const WaitArgs& args, const Console& console,
            CancelToken* token) {
  const absl::Time deadline = args.timeout == absl::InfiniteDuration() ? absl::InfiniteFuture()
                                                                       : absl::Now() + args.timeout;
  absl::StatusOr<ft::v1::Job> before = GetJob(ftd, args.job_id);
  if (!before.ok()) return Fail(console, before.status());
  if (IsFinalState(before->state())) return PrintFinal(*before, args, console);

  FollowOptions options;
  options.job_id = args.job_id;
  // Only what comes next matters: the final state change.
  options.after_seq = before->last_event_seq();
  options.deadline = deadline;
  QuietDisplay display;
  if (token != nullptr) token->Arm(true);
  absl::StatusOr<ft::v1::JobState> state = FollowJob(ftd, options, display, *console.err, token);
  if (token != nullptr) token->Arm(false);
  if (!state.ok()) {
    if (state.status().code() == absl::StatusCode::kCancelled && token != nullptr &&
        token->cancelled()) {
      *console.err << "ftctl: stopped waiting for " << args.job_id << "; the job goes on"
                   << std::endl;
      return kExitInterrupted;
    }
    if (absl::Now() >= deadline) {
      absl::StatusOr<ft::v1::Job> now = GetJob(ftd, args.job_id);
      *console.err << "ftctl: " << args.job_id << " is still "
                   << (now.ok() ? StateName(now->state()) : std::string("running")) << " after "
                   << FormatDuration(absl::ToDoubleSeconds(args.timeout))
                   << " (--timeout); the job goes on" << std::endl;
      return kExitTimeout;
    }
    return Fail(console, state.status());
  }
  absl::StatusOr<ft::v1::Job> job = GetJob(ftd, args.job_id);
  if (!job.ok()) {
    *console.out << args.job_id << " " << StateName(*state) << std::endl;
    *console.err << ErrorLine(job.status()) << " (while reading the final result)" << std::endl;
    return ExitCodeForFinalState(*state);
  }
  return PrintFinal(*job, args, console);
}

}  // namespace ft::client
