// The token file: which bearer token belongs to which user and role.
//
// Format: one entry per line, `TOKEN USER ROLE`, separated by spaces or tabs; blank lines and
// lines starting with '#' are ignored. ROLE is `user`, `admin` or `worker`. TOKEN is the secret
// itself (at least 16 characters) or `sha256:` followed by the 64 hex digits of its SHA-256, so
// that the file need not hold the secret. Only the SHA-256 digests are kept in memory, and a
// presented token is compared with every digest in constant time.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "server/auth/principal.h"

namespace ft::auth {

using TokenDigest = std::array<uint8_t, 32>;

TokenDigest Sha256(std::string_view bytes);
std::string HexDigest(const TokenDigest& digest);

class TokenTable {
 public:
  // INVALID_ARGUMENT naming `source` and the line for a malformed entry or a duplicate token.
  static absl::StatusOr<TokenTable> Parse(std::string_view text, const std::string& source);
  static absl::StatusOr<TokenTable> Load(const std::string& path);

  // Adds one entry (the local workers' secret).
  void Add(const TokenDigest& digest, Principal principal);
  // The principal of `token`, or nullopt. Every entry is compared, each in constant time.
  std::optional<Principal> Find(std::string_view token) const;
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    TokenDigest digest;
    Principal principal;
  };
  std::vector<Entry> entries_;
};

}  // namespace ft::auth
