// How ftctl turns failed calls and job outcomes into one-line messages and exit codes.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "ft/v1/job.pb.h"
#include "grpcpp/support/status.h"

namespace ft::client {

// ftctl's exit codes (documented in `ftctl --help`).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;      // the job FAILED, or any other error
inline constexpr int kExitBadRequest = 2;   // usage error, INVALID_ARGUMENT, NOT_FOUND, ...
inline constexpr int kExitUnavailable = 3;  // ftd unreachable, UNAVAILABLE, DEADLINE_EXCEEDED
inline constexpr int kExitCancelled = 4;    // the watched job was CANCELLED
inline constexpr int kExitInterrupted = 130;

// 2 for INVALID_ARGUMENT, NOT_FOUND, FAILED_PRECONDITION; 3 for UNAVAILABLE, DEADLINE_EXCEEDED;
// 0 for OK; 1 otherwise.
int ExitCodeForStatus(absl::StatusCode code);

// 0 for SUCCEEDED, 1 for FAILED, 4 for CANCELLED; 1 for a state that is not final.
int ExitCodeForFinalState(ft::v1::JobState state);

// Converts a failed call into the absl::Status ftctl reports: same code, and a message ready to
// print after "ftctl: ". When the channel never reached ftd (`reached_server` false) and the code
// is UNAVAILABLE or DEADLINE_EXCEEDED: "cannot reach ftd at <server>: <message>"; otherwise
// "<CODE>: <message>". Newlines in the message become spaces, so that it stays one line.
absl::Status FromGrpcStatus(const grpc::Status& status, absl::string_view server,
                            bool reached_server);

// "ftctl: <message>" for printing.
std::string ErrorLine(const absl::Status& status);

}  // namespace ft::client
