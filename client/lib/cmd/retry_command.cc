#include "client/lib/cmd/retry_command.h"

#include "absl/strings/str_cat.h"
#include "client/lib/config/spec_flags.h"
#include "client/lib/format/text_util.h"
#include "client/lib/rpc/rpc_errors.h"

namespace ft::client {

int RunRetry(const FtdConnection& ftd, const RetryArgs& args, const Console& console,
             CancelToken* token) {
  absl::StatusOr<ft::v1::Job> old = GetJob(ftd, args.job_id);
  if (!old.ok()) return Fail(console, old.status());
  const ft::v1::JobState state = old->state();
  if (!args.force && state != ft::v1::FAILED && state != ft::v1::CANCELLED) {
    const bool ended = state == ft::v1::SUCCEEDED;
    *console.err << "ftctl: " << args.job_id << " is " << StateName(state)
                 << (ended ? "" : " (it has not ended)")
                 << "; retry resubmits only FAILED or CANCELLED jobs (--force resubmits it anyway)"
                 << std::endl;
    return kExitRefused;
  }
  ft::v1::SubmitJobRequest request;
  *request.mutable_spec() = old->spec();
  request.set_request_id(args.request_id.empty() ? NewRequestId() : args.request_id);
  absl::StatusOr<ft::v1::SubmitJobResponse> response = SubmitJob(ftd, request);
  if (!response.ok()) return Fail(console, response.status());
  const ft::v1::Job& job = response->job();
  *console.err << "ftctl: " << args.job_id << " (" << StateName(state) << ") "
               << (response->created() ? "resubmitted as " : "was already resubmitted as ")
               << job.id() << std::endl;
  const int printed = PrintJob(job, args.output, job.id() + "\n", console);
  if (printed != kExitOk || !args.watch) return printed;
  return RunWatch(ftd, WatchArgs{job.id(), 0}, console, token);
}

}  // namespace ft::client
