// ftctl's unary calls to ftd: each with a deadline, each failure turned into the absl::Status that
// ftctl prints ("INVALID_ARGUMENT: ...", "cannot reach ftd at HOST:PORT: ...").
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/net/ftd_channel.h"
#include "ft/v1/finetune_service.grpc.pb.h"
#include "grpcpp/channel.h"

namespace ft::client {

// What every ftctl command needs to talk to ftd.
struct FtdConnection {
  ft::v1::FinetuneService::StubInterface* stub = nullptr;
  // Tells "ftd unreachable" from an UNAVAILABLE that ftd itself sent. Optional.
  grpc::ChannelInterface* channel = nullptr;
  std::string server;                          // HOST:PORT, for messages
  std::string token;  // bearer token from ClientConfig (client_config.h); empty: none
  absl::Duration timeout = absl::Seconds(10);  // deadline of each unary call

  // Sets the deadline for a unary call, and the credentials.
  void PrepareUnary(grpc::ClientContext* context) const;
  // Adds `authorization: Bearer <token>` when a token is set. Every call's context gets it
  // (PrepareUnary does; streams call it themselves).
  void AddCredentials(grpc::ClientContext* context) const;
  // The failed call as ftctl reports it (see FromGrpcStatus).
  absl::Status ToStatus(const grpc::Status& status) const;
};

// An insecure channel to `server` that retries a lost connection quickly (at most every 2 s), so
// that a watch can resume soon after ftd comes back.
std::shared_ptr<grpc::Channel> MakeFtdChannel(const std::string& server);
// The same with a bearer token and optional TLS (net/ftd_channel.h); fails on unreadable PEM files.
absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeFtdChannel(const std::string& server,
                                                              const net::ChannelSecurity& security);

// SubmitJob, retried once after `retry_delay` on UNAVAILABLE with the same request id, so that a
// retry never creates a second job.
absl::StatusOr<ft::v1::SubmitJobResponse> SubmitJob(const FtdConnection& ftd,
                                                    const ft::v1::SubmitJobRequest& request,
                                                    absl::Duration retry_delay = absl::Seconds(1));

absl::StatusOr<ft::v1::Job> GetJob(const FtdConnection& ftd, const std::string& job_id);

absl::StatusOr<ft::v1::Job> CancelJob(const FtdConnection& ftd, const std::string& job_id,
                                      const std::string& reason);

// Removes an ended job (record, events, folder); returns the bytes freed.
absl::StatusOr<uint64_t> DeleteJob(const FtdConnection& ftd, const std::string& job_id);

// Jobs in the given states (all when empty), newest first, following pages until `limit` jobs
// (0: all of them).
absl::StatusOr<std::vector<ft::v1::Job>> ListJobs(const FtdConnection& ftd,
                                                  const std::vector<ft::v1::JobState>& states,
                                                  uint32_t limit);

}  // namespace ft::client
