// How ftctl turns failed calls and job outcomes into one-line messages and exit codes.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "ft/v1/job.pb.h"
#include "grpcpp/support/status.h"

namespace ft::client {

// ftctl's exit codes, the same for every verb (documented in `ftctl --help` and docs/ftctl.md).
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;       // the job FAILED, or an unexpected error
inline constexpr int kExitBadRequest = 2;    // usage error, bad config, INVALID_ARGUMENT
inline constexpr int kExitNotFound = 3;      // no such job (NOT_FOUND)
inline constexpr int kExitUnavailable = 4;   // ftd unreachable, UNAVAILABLE, DEADLINE_EXCEEDED
inline constexpr int kExitCancelled = 5;     // the job was CANCELLED
inline constexpr int kExitRefused = 6;       // not in this state: FAILED_PRECONDITION, ...
inline constexpr int kExitTimeout = 7;       // `wait --timeout` ran out; the job goes on
inline constexpr int kExitUnauthorized = 8;  // UNAUTHENTICATED, PERMISSION_DENIED
inline constexpr int kExitInterrupted = 130;  // Ctrl-C while following a job; the job goes on

// The table printed by `ftctl --help` (one "  CODE  meaning" line each).
extern const char* const kExitCodeHelp;

// 0 OK; 2 INVALID_ARGUMENT, OUT_OF_RANGE; 3 NOT_FOUND; 4 UNAVAILABLE, DEADLINE_EXCEEDED;
// 6 FAILED_PRECONDITION, ALREADY_EXISTS, ABORTED; 8 UNAUTHENTICATED, PERMISSION_DENIED;
// 1 otherwise.
int ExitCodeForStatus(absl::StatusCode code);

// 0 SUCCEEDED, 1 FAILED, 5 CANCELLED; 1 for a state that is not final.
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
