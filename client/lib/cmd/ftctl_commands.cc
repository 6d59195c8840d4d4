#include "client/lib/cmd/ftctl_commands.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "client/lib/display/watch_display.h"
#include "client/lib/format/job_format.h"
#include "client/lib/format/text_util.h"
#include "client/lib/format/yaml_writer.h"
#include "client/lib/rpc/job_follower.h"
#include "client/lib/rpc/rpc_errors.h"

namespace ft::client {

int Fail(const Console& console, const absl::Status& status) {
  *console.err << ErrorLine(status) << std::endl;
  return ExitCodeForStatus(status.code());
}

int PrintJob(const ft::v1::Job& job, OutputFormat format, const std::string& table_text,
             const Console& console) {
  switch (format) {
    case OutputFormat::kJson: {
      absl::StatusOr<std::string> json = JobToJson(job);
      if (!json.ok()) return Fail(console, json.status());
      *console.out << *json << std::endl;
      return kExitOk;
    }
    case OutputFormat::kYaml: {
      absl::StatusOr<std::string> yaml = MessageToYaml(job);
      if (!yaml.ok()) return Fail(console, yaml.status());
      *console.out << *yaml << std::flush;
      return kExitOk;
    }
    case OutputFormat::kIds:
      *console.out << job.id() << std::endl;
      return kExitOk;
    case OutputFormat::kTable:
      break;
  }
  *console.out << table_text << std::flush;
  return kExitOk;
}

int RunSubmit(const FtdConnection& ftd, const SubmitArgs& args, const Console& console,
              CancelToken* token) {
  ft::v1::JobSpec base;
  if (!args.spec_file.empty()) {
    absl::StatusOr<ft::v1::JobSpec> loaded = LoadJobSpecFile(args.spec_file);
    if (!loaded.ok()) return Fail(console, loaded.status());
    base = std::move(*loaded);
  }
  absl::StatusOr<ft::v1::JobSpec> spec = BuildJobSpec(std::move(base), args.flags, args.cwd);
  if (!spec.ok()) return Fail(console, spec.status());

  ft::v1::SubmitJobRequest request;
  *request.mutable_spec() = std::move(*spec);
  request.set_request_id(args.request_id.empty() ? NewRequestId() : args.request_id);
  absl::StatusOr<ft::v1::SubmitJobResponse> response = SubmitJob(ftd, request);
  if (!response.ok()) return Fail(console, response.status());
  const ft::v1::Job& job = response->job();
  if (!response->created()) {
    *console.err << "ftctl: request id " << request.request_id() << " was already submitted as "
                 << job.id() << " (" << StateName(job.state()) << "); not submitted again"
                 << std::endl;
  }
  const int printed = PrintJob(job, args.output, job.id() + "\n", console);
  if (printed != kExitOk || !args.watch) return printed;
  return RunWatch(ftd, WatchArgs{job.id(), 0}, console, token);
}

int RunList(const FtdConnection& ftd, const ListArgs& args, const Console& console) {
  absl::StatusOr<std::vector<ft::v1::Job>> jobs = ListJobs(ftd, args.states, args.limit);
  if (!jobs.ok()) return Fail(console, jobs.status());
  switch (args.output) {
    case OutputFormat::kJson:
    case OutputFormat::kYaml: {
      absl::StatusOr<std::string> json = JobsToJson(*jobs);
      if (!json.ok()) return Fail(console, json.status());
      if (args.output == OutputFormat::kJson) {
        *console.out << *json << std::endl;
        break;
      }
      absl::StatusOr<std::string> yaml = JsonToYaml(*json);
      if (!yaml.ok()) return Fail(console, yaml.status());
      *console.out << *yaml << std::flush;
      break;
    }
    case OutputFormat::kIds:
      for (const ft::v1::Job& job : *jobs) *console.out << job.id() << "\n";
      *console.out << std::flush;
      break;
    case OutputFormat::kTable:
      *console.out << FormatJobTable(*jobs, absl::Now(), console.palette) << std::flush;
      break;
  }
  return kExitOk;
}

int RunGet(const FtdConnection& ftd, const GetArgs& args, const Console& console) {
  absl::StatusOr<ft::v1::Job> job = GetJob(ftd, args.job_id);
  if (!job.ok()) return Fail(console, job.status());
  if (args.output != OutputFormat::kTable) return PrintJob(*job, args.output, "", console);
  return PrintJob(*job, args.output,
                  FormatJobSummary(*job, absl::Now(), absl::LocalTimeZone(), console.palette),
                  console);
}

int RunCancel(const FtdConnection& ftd, const CancelArgs& args, const Console& console) {
  absl::StatusOr<ft::v1::Job> job = CancelJob(ftd, args.job_id, args.reason);
  if (!job.ok()) return Fail(console, job.status());
  *console.out << job->id() << " " << StateName(job->state()) << std::endl;
  return kExitOk;
}

int RunDelete(const FtdConnection& ftd, const DeleteArgs& args, const Console& console) {
  absl::StatusOr<uint64_t> freed = DeleteJob(ftd, args.job_id);
  if (!freed.ok()) return Fail(console, freed.status());
  *console.out << args.job_id << " deleted (" << *freed << " bytes freed)" << std::endl;
  return kExitOk;
}

int RunWatch(const FtdConnection& ftd, const WatchArgs& args, const Console& console,
             CancelToken* token) {
  std::unique_ptr<WatchDisplay> display =
      console.live
          ? MakeLiveDisplay(*console.out, console.terminal_width, console.glyphs, console.palette)
          : MakePlainDisplay(*console.out);
  // Fails fast on an unknown job or an unreachable ftd; the stream only retries once it worked.
  absl::StatusOr<ft::v1::Job> before = GetJob(ftd, args.job_id);
  if (!before.ok()) return Fail(console, before.status());
  if (IsFinalState(before->state()) && args.after_seq >= before->last_event_seq()) {
    // Nothing left to show: the stream would wait for events that never come.
    *console.out << FormatFinalSummary(*before, console.palette) << std::flush;
    return ExitCodeForFinalState(before->state());
  }
  FollowOptions options;
  options.job_id = args.job_id;
  options.after_seq = args.after_seq;
  if (token != nullptr) token->Arm(true);
  absl::StatusOr<ft::v1::JobState> state = FollowJob(ftd, options, *display, *console.err, token);
  if (token != nullptr) token->Arm(false);
  display->Close();
  if (!state.ok()) {
    if (state.status().code() == absl::StatusCode::kCancelled && token != nullptr &&
        token->cancelled()) {
      *console.err << "ftctl: stopped watching " << args.job_id << "; the job goes on (`ftctl "
                   << "cancel " << args.job_id << "` stops it)" << std::endl;
      return kExitInterrupted;
    }
    return Fail(console, state.status());
  }
  // The job's record has the error and the latest evaluation per split.
  absl::StatusOr<ft::v1::Job> job = GetJob(ftd, args.job_id);
  if (job.ok()) {
    *console.out << FormatFinalSummary(*job, console.palette) << std::flush;
    return ExitCodeForFinalState(*state);
  }
  *console.out << args.job_id << " " << StateName(*state) << std::endl;
  *console.err << ErrorLine(job.status()) << " (while reading the final result)" << std::endl;
  return ExitCodeForFinalState(*state);
}

}  // namespace ft::client
