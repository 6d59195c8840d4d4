// ToGrpcStatus and GrpcCodeName: the one conversion from absl::Status to grpc::Status.
#include "server/api/grpc_status.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/strings/match.h"

namespace ft::api {
namespace {

TEST(GrpcStatusTest, OkStaysOk) {
  const grpc::Status status = ToGrpcStatus(absl::OkStatus());
  EXPECT_TRUE(status.ok());
  EXPECT_TRUE(status.error_message().empty());
}

TEST(GrpcStatusTest, KeepsEveryCodeAndShortMessages) {
  for (int code = 1; code <= 16; ++code) {
    const absl::Status in(static_cast<absl::StatusCode>(code), "spec.epochs: must be 1..1000");
    const grpc::Status out = ToGrpcStatus(in);
    EXPECT_EQ(static_cast<int>(out.error_code()), code);
    EXPECT_EQ(out.error_message(), "spec.epochs: must be 1..1000");
  }
  EXPECT_EQ(ToGrpcStatus(absl::InvalidArgumentError("x")).error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(ToGrpcStatus(absl::NotFoundError("x")).error_code(), grpc::NOT_FOUND);
  EXPECT_EQ(ToGrpcStatus(absl::FailedPreconditionError("x")).error_code(),
            grpc::FAILED_PRECONDITION);
  EXPECT_EQ(ToGrpcStatus(absl::ResourceExhaustedError("x")).error_code(), grpc::RESOURCE_EXHAUSTED);
}

TEST(GrpcStatusTest, TruncatesMessagesOver4KiB) {
  const std::string exact(4096, 'a');
  EXPECT_EQ(ToGrpcStatus(absl::InternalError(exact)).error_message(), exact);

  const std::string huge = std::string(4096, 'b') + std::string(100000, 'c');
  const grpc::Status out = ToGrpcStatus(absl::InvalidArgumentError(huge));
  EXPECT_EQ(out.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_LT(out.error_message().size(), 4096u + 64u);
  EXPECT_TRUE(absl::StartsWith(out.error_message(), std::string(4096, 'b')));
  EXPECT_FALSE(absl::StrContains(out.error_message(), "bc"));
  EXPECT_TRUE(absl::StrContains(out.error_message(), "truncated"));

  const grpc::Status one_over = ToGrpcStatus(absl::InternalError(std::string(4097, 'd')));
  EXPECT_TRUE(absl::StrContains(one_over.error_message(), "truncated"));
}

TEST(GrpcStatusTest, CodeNames) {
  EXPECT_STREQ(GrpcCodeName(grpc::OK), "OK");
  EXPECT_STREQ(GrpcCodeName(grpc::INVALID_ARGUMENT), "INVALID_ARGUMENT");
  EXPECT_STREQ(GrpcCodeName(grpc::FAILED_PRECONDITION), "FAILED_PRECONDITION");
  EXPECT_STREQ(GrpcCodeName(grpc::RESOURCE_EXHAUSTED), "RESOURCE_EXHAUSTED");
  EXPECT_STREQ(GrpcCodeName(grpc::UNAUTHENTICATED), "UNAUTHENTICATED");
  EXPECT_STREQ(GrpcCodeName(static_cast<grpc::StatusCode>(99)), "UNKNOWN");
  // Every canonical code has its own name.
  for (int code = 1; code <= 16; ++code) {
    if (code == grpc::UNKNOWN) continue;
    EXPECT_STRNE(GrpcCodeName(static_cast<grpc::StatusCode>(code)), "UNKNOWN") << code;
  }
}

}  // namespace
}  // namespace ft::api
