// gRPC side of authentication and authorisation: reads the call's bearer token, and decides
// whether a caller may see a job.
#pragma once

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "ft/v1/job.pb.h"
#include "grpcpp/grpcpp.h"
#include "server/auth/authenticator.h"

namespace ft::api {

// The caller of `context`. A null `auth` accepts everyone as an anonymous admin (in-process
// tests).
absl::StatusOr<auth::Principal> AuthenticateCall(const grpc::CallbackServerContext* context,
                                                 const auth::Authenticator* auth, auth::Api api);

// NOT_FOUND, worded as for an unknown id, unless `who` owns the job or is an admin: another
// user's job is not told to exist.
absl::Status CheckJobAccess(const ft::v1::Job& job, const auth::Principal& who);

// The owner whose jobs `who` lists: nullopt (all) for an admin.
std::optional<std::string> VisibleOwner(const auth::Principal& who);

}  // namespace ft::api
