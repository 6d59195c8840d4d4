// gRPC settings shared by ftd, ftworker and ftctl: message size limits and keepalive. Header only;
// include it only from code that links gRPC (server/, client/, worker/daemon/).
//
// Keepalive: clients ping an idle connection every 30 s and drop it when no answer comes within
// 10 s, so a watch or a worker notices a vanished ftd (or a dead NAT entry) in under a minute
// instead of at the next TCP timeout. ftd accepts pings that often (it refuses pings more frequent
// than kMinPingIntervalMs with GOAWAY "too_many_pings"), and pings its own idle clients every
// 60 s to reap dead watchers.
#pragma once

#include "grpcpp/server_builder.h"
#include "grpcpp/support/channel_arguments.h"

namespace ft::rpc {

// The largest message either side accepts. Jobs, events and pages are kilobytes; a job with
// hundreds of per-class metrics and a confusion matrix stays well under 1 MB.
constexpr int kMaxMessageBytes = 16 * 1024 * 1024;
constexpr int kClientKeepaliveTimeMs = 30000;
constexpr int kClientKeepaliveTimeoutMs = 10000;
constexpr int kServerKeepaliveTimeMs = 60000;
constexpr int kServerKeepaliveTimeoutMs = 20000;
constexpr int kMinPingIntervalMs = 10000;  // below kClientKeepaliveTimeMs, so clients are welcome

inline void ApplyClientLimits(grpc::ChannelArguments& args) {
  args.SetMaxReceiveMessageSize(kMaxMessageBytes);
  args.SetMaxSendMessageSize(kMaxMessageBytes);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, kClientKeepaliveTimeMs);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, kClientKeepaliveTimeoutMs);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
}

inline void ApplyServerLimits(grpc::ServerBuilder& builder) {
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  builder.SetMaxSendMessageSize(kMaxMessageBytes);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, kServerKeepaliveTimeMs);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, kServerKeepaliveTimeoutMs);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                             kMinPingIntervalMs);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 2);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
}

}  // namespace ft::rpc
