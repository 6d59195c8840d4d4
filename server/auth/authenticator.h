// Decides who a call comes from, from its `authorization: Bearer TOKEN` header: a token of the
// token file (reloaded when the file changes, or on Reload()), or the local workers' secret that
// ftd hands its own ftworker children through the environment. Knows nothing of gRPC.
#pragma once

#include <sys/types.h>

#include <ctime>
#include <memory>
#include <string>
#include <string_view>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "server/auth/principal.h"
#include "server/auth/token_table.h"

namespace ft::auth {

// Which API a call belongs to: users (and admins) call the public one, workers the worker one.
enum class Api { kPublic, kWorker };

struct AuthenticatorOptions {
  std::string token_file;  // required unless insecure
  // --insecure-no-auth: every call is accepted as an anonymous admin (jobs get no owner).
  bool insecure = false;
  // The secret of ftd's own local workers (role worker); empty: none.
  std::string local_worker_secret;
};

class Authenticator {
 public:
  static absl::StatusOr<std::unique_ptr<Authenticator>> Create(AuthenticatorOptions options);

  // UNAUTHENTICATED without a header, with a malformed one or an unknown token;
  // PERMISSION_DENIED when the token's role may not call `api` (a worker token on the public API,
  // a user or admin token on the worker API). Never names the token.
  absl::StatusOr<Principal> Authenticate(std::string_view authorization_header, Api api) const;

  // Re-reads the token file if its size, mtime or inode changed (force: always). A file that
  // does not parse keeps the previous table and returns the error.
  absl::Status Reload(bool force);

  bool insecure() const { return options_.insecure; }
  size_t token_count() const;

 private:
  explicit Authenticator(AuthenticatorOptions options)
      : options_(std::move(options)), worker_secret_digest_(Sha256(options_.local_worker_secret)) {}

  const AuthenticatorOptions options_;
  const TokenDigest worker_secret_digest_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const TokenTable> table_ ABSL_GUARDED_BY(mu_);
  // Identity of the file last loaded.
  ino_t inode_ ABSL_GUARDED_BY(mu_) = 0;
  off_t size_ ABSL_GUARDED_BY(mu_) = -1;
  timespec mtime_ ABSL_GUARDED_BY(mu_) = {};
};

// A fresh random secret (64 hex digits) for the local workers.
std::string NewWorkerSecret();

}  // namespace ft::auth
