// WorkerLink over a gRPC channel to ftd's WorkerService, each call with a 10 s deadline.
#pragma once

#include <memory>
#include <string>

#include "common/net/ftd_channel.h"
#include "ft/v1/worker_service.grpc.pb.h"
#include "worker/daemon/worker_link.h"

namespace ft::worker {

class GrpcWorkerLink : public WorkerLink {
 public:
  // A channel to `server` with the worker's token and TLS settings and the shared message limits
  // and keepalive (common/util/grpc_limits.h). A TLS file that cannot be read is logged and the
  // channel is plaintext: its calls then fail visibly against a TLS server.
  static std::unique_ptr<GrpcWorkerLink> Connect(const std::string& server,
                                                 const net::ChannelSecurity& security);

  explicit GrpcWorkerLink(std::unique_ptr<ft::v1::WorkerService::StubInterface> stub)
      : stub_(std::move(stub)) {}

  absl::StatusOr<ft::v1::AcquireJobResponse> AcquireJob(
      const ft::v1::AcquireJobRequest& request) override;
  absl::StatusOr<ft::v1::HeartbeatResponse> Heartbeat(
      const ft::v1::HeartbeatRequest& request) override;
  absl::StatusOr<ft::v1::HeartbeatResponse> ReportEvents(
      const ft::v1::ReportEventsRequest& request) override;
  absl::Status CompleteJob(const ft::v1::CompleteJobRequest& request) override;

 private:
  const std::unique_ptr<ft::v1::WorkerService::StubInterface> stub_;
};

}  // namespace ft::worker
