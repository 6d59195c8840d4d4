#include "client/lib/rpc/rpc_errors.h"

#include "gtest/gtest.h"

namespace ft::client {
namespace {

TEST(ExitCodeTest, ForStatus) {
  EXPECT_EQ(ExitCodeForStatus(absl::StatusCode::kOk), 0);
  EXPECT_EQ(ExitCodeForStatus(absl::StatusCode::kInvalidArgument), 2);
  EXPECT_EQ(ExitCodeForStatus(absl::StatusCode::kNotFound), 3);
  EXPECT_EQ(ExitCodeForStatus(absl::StatusCode::kFailedPrecondition), 6);
  EXPECT_EQ(ExitCodeForStatus(absl::StatusCode::kUnavailable), 4);
  EXPECT_EQ(ExitCodeForStatus(absl::StatusCode::kDeadlineExceeded), 4);
  EXPECT_EQ(ExitCodeForStatus(absl::StatusCode::kUnauthenticated), 8);
  EXPECT_EQ(ExitCodeForStatus(absl::StatusCode::kPermissionDenied), 8);
  EXPECT_EQ(ExitCodeForStatus(absl::StatusCode::kResourceExhausted), 1);
  EXPECT_EQ(ExitCodeForStatus(absl::StatusCode::kInternal), 1);
  EXPECT_EQ(ExitCodeForStatus(absl::StatusCode::kUnknown), 1);
}

TEST(ExitCodeTest, ForFinalState) {
  EXPECT_EQ(ExitCodeForFinalState(ft::v1::SUCCEEDED), 0);
  EXPECT_EQ(ExitCodeForFinalState(ft::v1::FAILED), 1);
  EXPECT_EQ(ExitCodeForFinalState(ft::v1::CANCELLED), 5);
  EXPECT_EQ(ExitCodeForFinalState(ft::v1::RUNNING), 1);
}

TEST(FromGrpcStatusTest, ServerErrorsKeepCodeAndName) {
  const absl::Status status =
      FromGrpcStatus(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                  "spec.micro_batch_size: must be 1..4096, got 0"),
                     "127.0.0.1:50051", true);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorLine(status),
            "ftctl: INVALID_ARGUMENT: spec.micro_batch_size: must be 1..4096, got 0");

  // UNAVAILABLE sent by a reachable ftd is reported as such.
  EXPECT_EQ(ErrorLine(FromGrpcStatus(grpc::Status(grpc::StatusCode::UNAVAILABLE, "draining"), "h:1",
                                     true)),
            "ftctl: UNAVAILABLE: draining");
}

TEST(FromGrpcStatusTest, UnreachableServerIsOneClearLine) {
  const absl::Status status = FromGrpcStatus(
      grpc::Status(grpc::StatusCode::UNAVAILABLE, "failed to connect\nConnection refused"),
      "127.0.0.1:50051", false);
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ErrorLine(status),
            "ftctl: cannot reach ftd at 127.0.0.1:50051: failed to connect Connection refused");
  EXPECT_EQ(ExitCodeForStatus(status.code()), 4);

  const absl::Status deadline = FromGrpcStatus(
      grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "Deadline Exceeded"), "10.0.0.9:1", false);
  EXPECT_EQ(ErrorLine(deadline), "ftctl: cannot reach ftd at 10.0.0.9:1: Deadline Exceeded");
  EXPECT_EQ(ExitCodeForStatus(deadline.code()), 4);

  // Other codes are ftd's answer even when the channel is down by now.
  EXPECT_EQ(
      ErrorLine(FromGrpcStatus(grpc::Status(grpc::StatusCode::NOT_FOUND, "no job"), "h:1", false)),
      "ftctl: NOT_FOUND: no job");
}

}  // namespace
}  // namespace ft::client
