#include "client/lib/rpc/event_log_fetch.h"

#include "absl/strings/str_cat.h"

namespace ft::client {

JobLabel LabelOf(const ft::v1::Job& job) {
  JobLabel label;
  label.display_name = job.spec().display_name();
  label.micro_batch_size = job.spec().micro_batch_size();
  label.accumulation_steps = job.spec().accumulation_steps();
  return label;
}

absl::StatusOr<JobLog> FetchJobLog(const FtdConnection& ftd, const std::string& job_id,
                                   absl::Duration stream_timeout) {
  absl::StatusOr<ft::v1::Job> job = GetJob(ftd, job_id);
  if (!job.ok()) return job.status();
  JobLog log;
  log.job_id = job->id();
  log.label = LabelOf(*job);
  const uint64_t last_seq = job->last_event_seq();
  if (last_seq == 0) return log;

  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + stream_timeout));
  ftd.AddCredentials(&context);
  ft::v1::WatchJobRequest request;
  request.set_job_id(job_id);
  request.set_after_seq(0);
  std::unique_ptr<grpc::ClientReaderInterface<ft::v1::JobEvent>> reader =
      ftd.stub->WatchJob(&context, request);
  ft::v1::JobEvent event;
  while (reader->Read(&event)) {
    const uint64_t seq = event.seq();
    log.events.push_back(std::move(event));
    // A running job's stream would go on live; the snapshot ends with the record's newest event.
    if (seq >= last_seq) {
      context.TryCancel();
      break;
    }
  }
  const grpc::Status status = reader->Finish();
  if (!log.events.empty() && log.events.back().seq() >= last_seq) return log;
  if (!status.ok()) return ftd.ToStatus(status);
  return absl::UnavailableError(absl::StrCat("the event stream of ", job_id, " ended after ",
                                             log.events.size(), " of ", last_seq, " events"));
}

}  // namespace ft::client
