#include "worker/daemon/grpc_worker_link.h"

#include <chrono>

#include "common/util/grpc_limits.h"
#include "grpcpp/grpcpp.h"
#include "spdlog/spdlog.h"

namespace ft::worker {
namespace {

// gRPC's codes are abseil's, number for number.
absl::Status ToStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
}

template <typename Response, typename Call>
absl::StatusOr<Response> Unary(Call call) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  Response response;
  const grpc::Status status = call(&context, &response);
  if (!status.ok()) return ToStatus(status);
  return response;
}

}  // namespace

std::unique_ptr<GrpcWorkerLink> GrpcWorkerLink::Connect(const std::string& server,
                                                        const net::ChannelSecurity& security) {
  grpc::ChannelArguments args;
  rpc::ApplyClientLimits(args);
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = net::MakeChannel(server, security, args);
  if (!channel.ok()) {
    spdlog::error("{}", channel.status().ToString());
    channel = grpc::CreateCustomChannel(server, grpc::InsecureChannelCredentials(), args);
  }
  return std::make_unique<GrpcWorkerLink>(ft::v1::WorkerService::NewStub(*channel));
}

absl::StatusOr<ft::v1::AcquireJobResponse> GrpcWorkerLink::AcquireJob(
    const ft::v1::AcquireJobRequest& request) {
  return Unary<ft::v1::AcquireJobResponse>(
      [&](auto* context, auto* response) { return stub_->AcquireJob(context, request, response); });
}

absl::StatusOr<ft::v1::HeartbeatResponse> GrpcWorkerLink::Heartbeat(
    const ft::v1::HeartbeatRequest& request) {
  return Unary<ft::v1::HeartbeatResponse>(
      [&](auto* context, auto* response) { return stub_->Heartbeat(context, request, response); });
}

absl::StatusOr<ft::v1::HeartbeatResponse> GrpcWorkerLink::ReportEvents(
    const ft::v1::ReportEventsRequest& request) {
  return Unary<ft::v1::HeartbeatResponse>([&](auto* context, auto* response) {
    return stub_->ReportEvents(context, request, response);
  });
}

absl::Status GrpcWorkerLink::CompleteJob(const ft::v1::CompleteJobRequest& request) {
  return Unary<ft::v1::CompleteJobResponse>([&](auto* context, auto* response) {
           return stub_->CompleteJob(context, request, response);
         })
      .status();
}

}  // namespace ft::worker
