#include "client/lib/rpc/rpc_errors.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace ft::client {

const char* const kExitCodeHelp =
    "Exit codes (every verb):\n"
    "  0    success (watch, wait, submit --watch: the job SUCCEEDED)\n"
    "  1    the job FAILED, or an unexpected error\n"
    "  2    bad usage, bad config file, or a request ftd refused as invalid\n"
    "  3    no such job\n"
    "  4    ftd unreachable (or the call's deadline passed)\n"
    "  5    the job was CANCELLED\n"
    "  6    not possible in the job's state (cancel an ended job, retry a running one)\n"
    "  7    wait --timeout ran out before the job ended (the job goes on)\n"
    "  8    not authorised (missing or wrong token)\n"
    "  130  interrupted with Ctrl-C while following a job (the job goes on)\n";

int ExitCodeForStatus(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return kExitOk;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return kExitBadRequest;
    case absl::StatusCode::kNotFound:
      return kExitNotFound;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
      return kExitUnavailable;
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
      return kExitRefused;
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
      return kExitUnauthorized;
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
