#include "server/auth/authenticator.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <sys/stat.h>

#include <cctype>
#include <random>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace ft::auth {

std::string NewWorkerSecret() {
  TokenDigest bytes;
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    // The kernel's generator (getrandom or /dev/urandom) behind std::random_device.
    std::random_device random;
    for (uint8_t& byte : bytes) byte = static_cast<uint8_t>(random());
  }
  return HexDigest(bytes);
}

absl::StatusOr<std::unique_ptr<Authenticator>> Authenticator::Create(AuthenticatorOptions options) {
  if (!options.insecure && options.token_file.empty()) {
    return absl::InvalidArgumentError(
        "give --token-file FILE (bearer tokens), or --insecure-no-auth to run without "
        "authentication on a loopback address");
  }
  std::unique_ptr<Authenticator> auth(new Authenticator(std::move(options)));
  {
    absl::MutexLock lock(&auth->mu_);
    auth->table_ = std::make_shared<TokenTable>();
  }
  if (!auth->options_.token_file.empty()) {
    if (absl::Status status = auth->Reload(/*force=*/true); !status.ok()) return status;
  }
  return auth;
}

absl::Status Authenticator::Reload(bool force) {
  if (options_.token_file.empty()) return absl::OkStatus();
  struct stat st;
  if (stat(options_.token_file.c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat("--token-file: cannot read ", options_.token_file));
  }
  {
    absl::MutexLock lock(&mu_);
    if (!force && st.st_ino == inode_ && st.st_size == size_ &&
        st.st_mtim.tv_sec == mtime_.tv_sec && st.st_mtim.tv_nsec == mtime_.tv_nsec) {
      return absl::OkStatus();
    }
  }
  absl::StatusOr<TokenTable> table = TokenTable::Load(options_.token_file);
  absl::MutexLock lock(&mu_);
  // Remember the file even when it does not parse, so that a broken file is reported once, not
  // on every check; the previous table stays in force.
  inode_ = st.st_ino;
  size_ = st.st_size;
  mtime_ = st.st_mtim;
  if (!table.ok()) return table.status();
  if ((st.st_mode & 077) != 0) {
    spdlog::warn("--token-file {} is readable by group or others (mode {:o}); consider 0600",
                 options_.token_file, st.st_mode & 0777);
  }
  spdlog::info("loaded {} token(s) from {}", table->size(), options_.token_file);
  table_ = std::make_shared<const TokenTable>(std::move(*table));
  return absl::OkStatus();
}

size_t Authenticator::token_count() const {
  absl::MutexLock lock(&mu_);
  return table_->size();
}

absl::StatusOr<Principal> Authenticator::Authenticate(std::string_view header, Api api) const {
  if (options_.insecure) return Principal{"", Role::kAdmin};
  if (header.empty()) {
    return absl::UnauthenticatedError(
        "no bearer token: send the metadata 'authorization: Bearer TOKEN' (ftctl --token, "
        "$FTD_TOKEN)");
  }
  constexpr std::string_view kBearer = "bearer ";
  bool bearer = header.size() > kBearer.size();
  for (size_t i = 0; bearer && i < kBearer.size(); ++i) {
    bearer = std::tolower(static_cast<unsigned char>(header[i])) == kBearer[i];
  }
  if (!bearer) return absl::UnauthenticatedError("authorization metadata must be 'Bearer TOKEN'");
  std::string_view token = header.substr(kBearer.size());
  while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) token.remove_prefix(1);
  while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
  std::optional<Principal> principal;
  if (!options_.local_worker_secret.empty() &&
      CRYPTO_memcmp(Sha256(token).data(), worker_secret_digest_.data(),
                    worker_secret_digest_.size()) == 0) {
    principal = Principal{"local-worker", Role::kWorker};
  } else {
    std::shared_ptr<const TokenTable> table;
    {
      absl::MutexLock lock(&mu_);
      table = table_;
    }
    principal = table->Find(token);
  }
  if (!principal) return absl::UnauthenticatedError("invalid bearer token");
  const bool worker = principal->role == Role::kWorker;
  if (api == Api::kPublic && worker) {
    return absl::PermissionDeniedError("a worker token cannot call the public API");
  }
  if (api == Api::kWorker && !worker) {
    return absl::PermissionDeniedError(absl::StrCat(
        "the worker API needs a token of role worker; this one is ", RoleName(principal->role)));
  }
  return *principal;
}

}  // namespace ft::auth
