#include "client/lib/rpc/ftd_calls.h"

#include <algorithm>

#include "client/lib/rpc/rpc_errors.h"
#include "common/util/grpc_limits.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace ft::client {

void FtdConnection::PrepareUnary(grpc::ClientContext* context) const {
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  AddCredentials(context);
}

void FtdConnection::AddCredentials(grpc::ClientContext* context) const {
  if (!token.empty()) context->AddMetadata("authorization", "Bearer " + token);
}

absl::Status FtdConnection::ToStatus(const grpc::Status& status) const {
  const bool reached = channel == nullptr || channel->GetState(false) == GRPC_CHANNEL_READY;
  return FromGrpcStatus(status, server, reached);
}

namespace {
grpc::ChannelArguments FtdChannelArguments() {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 250);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 250);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  rpc::ApplyClientLimits(args);
  return args;
}
}  // namespace

std::shared_ptr<grpc::Channel> MakeFtdChannel(const std::string& server) {
  return grpc::CreateCustomChannel(server, grpc::InsecureChannelCredentials(),
                                   FtdChannelArguments());
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeFtdChannel(
    const std::string& server, const net::ChannelSecurity& security) {
  return net::MakeChannel(server, security, FtdChannelArguments());
}

absl::StatusOr<uint64_t> DeleteJob(const FtdConnection& ftd, const std::string& job_id) {
  grpc::ClientContext context;
  ftd.PrepareUnary(&context);
  ft::v1::DeleteJobRequest request;
  request.set_job_id(job_id);
  ft::v1::DeleteJobResponse response;
  const grpc::Status status = ftd.stub->DeleteJob(&context, request, &response);
  if (!status.ok()) return ftd.ToStatus(status);
  return response.freed_bytes();
}

absl::StatusOr<ft::v1::SubmitJobResponse> SubmitJob(const FtdConnection& ftd,
                                                    const ft::v1::SubmitJobRequest& request,
                                                    absl::Duration retry_delay) {
  ft::v1::SubmitJobResponse response;
  absl::Status first_error;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (attempt > 0) absl::SleepFor(retry_delay);
    grpc::ClientContext context;
    ftd.PrepareUnary(&context);
    const grpc::Status status = ftd.stub->SubmitJob(&context, request, &response);
    if (status.ok()) return response;
    if (status.error_code() != grpc::StatusCode::UNAVAILABLE) return ftd.ToStatus(status);
    // The first failure says best what went wrong; the retry's tends to be vaguer.
    if (attempt == 0) first_error = ftd.ToStatus(status);
  }
  return first_error;
}

absl::StatusOr<ft::v1::Job> GetJob(const FtdConnection& ftd, const std::string& job_id) {
  grpc::ClientContext context;
  ftd.PrepareUnary(&context);
  ft::v1::GetJobRequest request;
  request.set_job_id(job_id);
  ft::v1::Job job;
  const grpc::Status status = ftd.stub->GetJob(&context, request, &job);
  if (!status.ok()) return ftd.ToStatus(status);
  return job;
}

absl::StatusOr<ft::v1::Job> CancelJob(const FtdConnection& ftd, const std::string& job_id,
                                      const std::string& reason) {
  grpc::ClientContext context;
  ftd.PrepareUnary(&context);
  ft::v1::CancelJobRequest request;
  request.set_job_id(job_id);
  request.set_reason(reason);
  ft::v1::Job job;
  const grpc::Status status = ftd.stub->CancelJob(&context, request, &job);
  if (!status.ok()) return ftd.ToStatus(status);
  return job;
}

absl::StatusOr<std::vector<ft::v1::Job>> ListJobs(const FtdConnection& ftd,
                                                  const std::vector<ft::v1::JobState>& states,
                                                  uint32_t limit) {
  constexpr uint32_t kMaxPage = 1000;
  std::vector<ft::v1::Job> jobs;
  ft::v1::ListJobsRequest request;
  for (ft::v1::JobState state : states) request.add_states(state);
  while (true) {
    const uint32_t wanted = limit == 0 ? kMaxPage : limit - static_cast<uint32_t>(jobs.size());
    request.set_page_size(std::min(wanted, kMaxPage));
    grpc::ClientContext context;
    ftd.PrepareUnary(&context);
    ft::v1::ListJobsResponse response;
    const grpc::Status status = ftd.stub->ListJobs(&context, request, &response);
    if (!status.ok()) return ftd.ToStatus(status);
    for (auto& job : *response.mutable_jobs()) {
      if (limit != 0 && jobs.size() >= limit) break;
      jobs.push_back(std::move(job));
    }
    if (response.next_page_token().empty() || (limit != 0 && jobs.size() >= limit)) break;
    request.set_page_token(response.next_page_token());
  }
  return jobs;
}

}  // namespace ft::client
