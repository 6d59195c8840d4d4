// The one conversion from absl::Status to grpc::Status.
#pragma once

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace ft::api {

// Same code, message truncated to 4 KiB so that a huge error cannot blow a client's limits.
grpc::Status ToGrpcStatus(const absl::Status& status);

// "OK", "INVALID_ARGUMENT", ... for metrics labels.
const char* GrpcCodeName(grpc::StatusCode code);

}  // namespace ft::api
