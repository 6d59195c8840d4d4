#include "client/lib/cmd/health_command.h"

#include "client/lib/rpc/rpc_errors.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/client_context.h"

namespace ft::client {
namespace {

using grpc::health::v1::HealthCheckResponse;

std::string StatusName(HealthCheckResponse::ServingStatus status) {
  const std::string name = HealthCheckResponse::ServingStatus_Name(status);
  return name.empty() ? "UNKNOWN" : name;
}

int Failed(const grpc::Status& status, const std::shared_ptr<grpc::Channel>& channel,
           const std::string& server, std::ostream& err) {
  const bool reached = channel->GetState(false) == GRPC_CHANNEL_READY;
  const absl::Status error = FromGrpcStatus(status, server, reached);
  err << ErrorLine(error) << "\n";
  return ExitCodeForStatus(error.code());
}

}  // namespace

int RunHealth(const std::shared_ptr<grpc::Channel>& channel, const std::string& server,
              const HealthArgs& args, absl::Duration timeout, std::ostream& out,
              std::ostream& err) {
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(args.service);
  HealthCheckResponse response;
  if (!args.watch) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
    const grpc::Status status = stub->Check(&context, request, &response);
    if (!status.ok()) return Failed(status, channel, server, err);
    out << StatusName(response.status()) << "\n";
    return response.status() == HealthCheckResponse::SERVING ? kExitOk : kExitFailure;
  }
  // Watch: wait for the connection within the timeout, then follow without a deadline.
  if (!channel->WaitForConnected(absl::ToChronoTime(absl::Now() + timeout))) {
    return Failed(grpc::Status(grpc::StatusCode::UNAVAILABLE, "no connection"), channel, server,
                  err);
  }
  grpc::ClientContext context;
  auto reader = stub->Watch(&context, request);
  HealthCheckResponse::ServingStatus last = HealthCheckResponse::UNKNOWN;
  while (reader->Read(&response)) {
    last = response.status();
    out << StatusName(last) << std::endl;
  }
  const grpc::Status status = reader->Finish();
  if (!status.ok()) return Failed(status, channel, server, err);
  return last == HealthCheckResponse::SERVING ? kExitOk : kExitFailure;
}

}  // namespace ft::client
