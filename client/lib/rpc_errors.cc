#include "lib/rpc_errors.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace ft::client {

int ExitCodeForStatus(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return kExitOk;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kFailedPrecondition:
      return kExitBadRequest;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
      return kExitUnavailable;
    default:
      return kExitFailure;
  }
}

int ExitCodeForFinalState(ft::v1::JobState state) {
  switch (state) {
    case ft::v1::SUCCEEDED:
      return kExitOk;
    case ft::v1::CANCELLED:
      return kExitCancelled;
    default:
      return kExitFailure;
  }
}

absl::Status FromGrpcStatus(const grpc::Status& status, absl::string_view server,
                            bool reached_server) {
  if (status.ok()) return absl::OkStatus();
  // absl and gRPC share the canonical code numbers.
  const auto code = static_cast<absl::StatusCode>(status.error_code());
  std::string message = status.error_message();
  std::replace(message.begin(), message.end(), '\n', ' ');
  if (message.empty()) message = "(no message)";
  const bool connection_error =
      code == absl::StatusCode::kUnavailable || code == absl::StatusCode::kDeadlineExceeded;
  if (connection_error && !reached_server) {
    return absl::Status(code, absl::StrCat("cannot reach ftd at ", server, ": ", message));
  }
  return absl::Status(code, absl::StrCat(absl::StatusCodeToString(code), ": ", message));
}

std::string ErrorLine(const absl::Status& status) {
  return absl::StrCat("ftctl: ", status.message());
}

}  // namespace ft::client
