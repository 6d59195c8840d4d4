// ftd's WorkerService as a worker sees it: lease a job, renew the lease (with events or without),
// report how the job ended. An interface without gRPC types, so that the lease loop
// (worker_loop.h) and the reporter (lease_reporter.h) are tested against a fake ftd in memory
// (tests/unit/worker/daemon/fake_worker_link.h); grpc_worker_link.h is the real one. A failed
// call's status carries ftd's code (FAILED_PRECONDITION for a lease ftd no longer knows) or the
// transport's (UNAVAILABLE, DEADLINE_EXCEEDED).
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ft/v1/worker_service.pb.h"

namespace ft::worker {

class WorkerLink {
 public:
  virtual ~WorkerLink() = default;

  // A response without a job: nothing is queued.
  virtual absl::StatusOr<ft::v1::AcquireJobResponse> AcquireJob(
      const ft::v1::AcquireJobRequest& request) = 0;
  virtual absl::StatusOr<ft::v1::HeartbeatResponse> Heartbeat(
      const ft::v1::HeartbeatRequest& request) = 0;
  virtual absl::StatusOr<ft::v1::HeartbeatResponse> ReportEvents(
      const ft::v1::ReportEventsRequest& request) = 0;
  virtual absl::Status CompleteJob(const ft::v1::CompleteJobRequest& request) = 0;
};

}  // namespace ft::worker
