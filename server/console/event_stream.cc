#include "server/console/event_stream.h"

#include <chrono>
#include <deque>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "server/console/http_status.h"
#include "server/console/json_gateway.h"

namespace ft::console {
namespace {

// What the gRPC reader thread hands the HTTP thread. A CondVar rather than Mutex::Await with a
// lambda: TSan, through tests/support's annotations, reports the condition's reads from
// abseil's unlock path.
struct Mailbox {
  absl::Mutex mu;
  absl::CondVar changed;                               // a frame came, or the stream ended
  std::deque<std::string> frames ABSL_GUARDED_BY(mu);  // ready-made "id: ..\ndata: ..\n\n"
  bool done ABSL_GUARDED_BY(mu) = false;
  grpc::Status status ABSL_GUARDED_BY(mu);
};

std::string Frame(const ft::v1::JobEvent& event) {
  return absl::StrCat("id: ", event.seq(), "\ndata: ", ToJson(event), "\n\n");
}

absl::StatusOr<uint64_t> AfterSeq(const HttpRequest& request) {
  absl::StatusOr<std::multimap<std::string, std::string>> query = ParseQuery(request.query);
  if (!query.ok()) return query.status();
  uint64_t after_seq = 0;
  for (const auto& [key, value] : *query) {
    if (key != "after_seq") {
      return absl::InvalidArgumentError(
          absl::StrCat("query parameter '", key, "': unknown (after_seq)"));
    }
    if (!absl::SimpleAtoi(value, &after_seq)) {
      return absl::InvalidArgumentError(
          absl::StrCat("query parameter after_seq: '", value, "' is not a non-negative integer"));
    }
  }
  return after_seq;
}

}  // namespace

void EventStreams::CancelAll() { open_.CancelAll(); }

std::optional<HttpReply> EventStreams::Serve(const std::string& job_id, const HttpRequest& request,
                                             ResponseStream* sink) {
  absl::StatusOr<uint64_t> after_seq = AfterSeq(request);
  if (!after_seq.ok()) {
    return ErrorReply(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                   std::string(after_seq.status().message())));
  }
  // The stream's own errors arrive only when it ends, after the 200 has gone out; asking for the
  // job first answers a bad token or someone else's job with a proper 401 or 404.
  {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    if (grpc::Status status = PrepareContext(request, &context); !status.ok()) {
      return ErrorReply(status);
    }
    ft::v1::GetJobRequest get;
    get.set_job_id(job_id);
    ft::v1::Job job;
    if (grpc::Status status = stub_->GetJob(&context, get, &job); !status.ok()) {
      return ErrorReply(status);
    }
  }
  grpc::ClientContext context;
  PrepareContext(request, &context);  // already checked above
  OpenCall call(&open_, &context, options_.max_streams);
  if (call.admission() == Admission::kStopping) {
    return ErrorReply(grpc::Status(grpc::StatusCode::UNAVAILABLE, "ftd is shutting down"));
  }
  if (call.admission() == Admission::kFull) {
    return ErrorReply(
        grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                     absl::StrCat("too many open event streams (", options_.max_streams,
                                  ", ftd --console-max-streams); retry later")));
  }
  ft::v1::WatchJobRequest watch;
  watch.set_job_id(job_id);
  watch.set_after_seq(*after_seq);
  Pump(watch, &context, sink);
  return std::nullopt;
}

void EventStreams::Pump(const ft::v1::WatchJobRequest& watch, grpc::ClientContext* context,
                        ResponseStream* sink) {
  Mailbox mailbox;
  // gRPC's blocking Read() cannot wait with a timeout, so a reader thread fills the mailbox and
  // this (HTTP) thread writes, sending keepalives in the pauses; a failed write is how a gone
  // client shows, and cancels the call.
  std::thread reader([&] {
    std::unique_ptr<grpc::ClientReaderInterface<ft::v1::JobEvent>> stream =
        stub_->WatchJob(context, watch);
    ft::v1::JobEvent event;
    while (stream->Read(&event)) {
      std::string frame = Frame(event);
      absl::MutexLock lock(&mailbox.mu);
      mailbox.frames.push_back(std::move(frame));
      mailbox.changed.Signal();
    }
    grpc::Status status = stream->Finish();
    absl::MutexLock lock(&mailbox.mu);
    mailbox.status = std::move(status);
    mailbox.done = true;
    mailbox.changed.Signal();
  });
  // X-Accel-Buffering: a proxy in front (nginx) must pass each event on at once.
  bool client_here = sink->Start(
      StreamHead{200, "text/event-stream", std::nullopt, {{"X-Accel-Buffering", "no"}}});
  while (client_here) {
    std::deque<std::string> frames;
    bool done = false;
    grpc::Status status;
    {
      absl::MutexLock lock(&mailbox.mu);
      const absl::Time keepalive_at = absl::Now() + options_.keepalive;
      while (mailbox.frames.empty() && !mailbox.done) {
        if (mailbox.changed.WaitWithDeadline(&mailbox.mu, keepalive_at)) break;  // timed out
      }
      frames.swap(mailbox.frames);
      done = mailbox.done;
      status = mailbox.status;
    }
    if (frames.empty() && !done) frames.push_back(": keepalive\n\n");
    for (const std::string& frame : frames) {
      if (!(client_here = sink->Write(frame))) break;
    }
    if (!client_here || done) {
      if (client_here && !status.ok() && status.error_code() != grpc::StatusCode::CANCELLED) {
        sink->Write(absl::StrCat("event: error\ndata: ",
                                 ErrorJson(status.error_code(), status.error_message()), "\n\n"));
      }
      break;
    }
  }
  context->TryCancel();  // ends the reader's Read() when the client went first
  reader.join();
}

}  // namespace ft::console
