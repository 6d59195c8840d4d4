// GET /api/v1/jobs/{id}/events: the job's WatchJob stream as server-sent events, one JobEvent
// as JSON per `data:` line (with `id: SEQ`), a comment line as keepalive while nothing happens,
// and an `event: error` carrying the JSON error if the stream fails after it began. Browsers
// read it with fetch() and a stream reader, since EventSource cannot send an Authorization
// header. Open streams are bounded: each holds one of the HTTP server's threads.
#pragma once

#include <optional>
#include <string>

#include "absl/time/time.h"
#include "ft/v1/finetune_service.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "server/console/http_request.h"
#include "server/console/open_calls.h"

namespace ft::console {

struct EventStreamOptions {
  int max_streams = 16;                          // open streams at once; more: 429
  absl::Duration keepalive = absl::Seconds(15);  // a comment line after this long without events
};

class EventStreams {
 public:
  EventStreams(ft::v1::FinetuneService::StubInterface* stub, EventStreamOptions options)
      : stub_(stub), options_(options) {}

  // Streams the job's events into `sink` until the job ends, the client goes or CancelAll().
  // A refusal before the stream begins (bad token, unknown job, bad after_seq, too many streams)
  // is returned instead, for the caller to send as an ordinary reply.
  std::optional<HttpReply> Serve(const std::string& job_id, const HttpRequest& request,
                                 ResponseStream* sink);

  // Ends every open stream and refuses new ones (shutdown).
  void CancelAll();

  int open_streams() const { return open_.size(); }

 private:
  void Pump(const ft::v1::WatchJobRequest& watch, grpc::ClientContext* context,
            ResponseStream* sink);

  ft::v1::FinetuneService::StubInterface* stub_;
  const EventStreamOptions options_;
  OpenCalls open_;
};

}  // namespace ft::console
