#include "server/api/call_auth.h"

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace ft::api {

absl::StatusOr<auth::Principal> AuthenticateCall(const grpc::CallbackServerContext* context,
                                                 const auth::Authenticator* auth, auth::Api api) {
  if (auth == nullptr) return auth::Principal{"", auth::Role::kAdmin};
  std::string_view header;
  const auto& metadata = context->client_metadata();
  if (auto it = metadata.find("authorization"); it != metadata.end()) {
    header = std::string_view(it->second.data(), it->second.size());
  }
  absl::StatusOr<auth::Principal> principal = auth->Authenticate(header, api);
  if (!principal.ok()) {
    // The peer and the reason, never the token.
    spdlog::debug("refused a call from {}: {}", context->peer(),
                  std::string(principal.status().message()));
  }
  return principal;
}

absl::Status CheckJobAccess(const ft::v1::Job& job, const auth::Principal& who) {
  if (who.role == auth::Role::kAdmin || job.owner() == who.user) return absl::OkStatus();
  return absl::NotFoundError(absl::StrCat("no job with id '", job.id(), "'"));
}

std::optional<std::string> VisibleOwner(const auth::Principal& who) {
  if (who.role == auth::Role::kAdmin) return std::nullopt;
  return who.user;
}

}  // namespace ft::api
