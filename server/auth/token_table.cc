#include "server/auth/token_table.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <cctype>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace ft::auth {

const char* RoleName(Role role) {
  switch (role) {
    case Role::kAdmin:
      return "admin";
    case Role::kWorker:
      return "worker";
    default:
      return "user";
  }
}

TokenDigest Sha256(std::string_view bytes) {
  TokenDigest digest;
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest.data());
  return digest;
}

std::string HexDigest(const TokenDigest& digest) {
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (uint8_t byte : digest) {
    hex += kHex[byte >> 4];
    hex += kHex[byte & 15];
  }
  return hex;
}

namespace {

constexpr size_t kMinTokenLength = 16;

std::optional<TokenDigest> ParseHexDigest(std::string_view hex) {
  if (hex.size() != 64) return std::nullopt;
  TokenDigest digest;
  for (size_t i = 0; i < 32; ++i) {
    int value = 0;
    for (size_t k = 0; k < 2; ++k) {
      const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(hex[2 * i + k])));
      int nibble;
      if (c >= '0' && c <= '9') {
        nibble = c - '0';
      } else if (c >= 'a' && c <= 'f') {
        nibble = c - 'a' + 10;
      } else {
        return std::nullopt;
      }
      value = value * 16 + nibble;
    }
    digest[i] = static_cast<uint8_t>(value);
  }
  return digest;
}

std::optional<Role> ParseRole(std::string_view name) {
  if (name == "user") return Role::kUser;
  if (name == "admin") return Role::kAdmin;
  if (name == "worker") return Role::kWorker;
  return std::nullopt;
}

}  // namespace

absl::StatusOr<TokenTable> TokenTable::Parse(std::string_view text, const std::string& source) {
  TokenTable table;
  std::istringstream lines{std::string(text)};
  std::string line;
  int line_number = 0;
  while (std::getline(lines, line)) {
    ++line_number;
    std::istringstream words(line);
    std::vector<std::string> fields;
    for (std::string word; words >> word;) fields.push_back(word);
    if (fields.empty() || fields[0][0] == '#') continue;
    // Never echo the line: it holds a secret.
    const std::string where = absl::StrCat(source, ":", line_number, ": ");
    if (fields.size() != 3) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, "expected 'TOKEN USER ROLE' (3 fields), got ", fields.size(), " fields"));
    }
    std::optional<Role> role = ParseRole(fields[2]);
    if (!role) {
      return absl::InvalidArgumentError(absl::StrCat(where, "role must be user, admin or worker"));
    }
    TokenDigest digest;
    const std::string kSha = "sha256:";
    if (fields[0].compare(0, kSha.size(), kSha) == 0) {
      std::optional<TokenDigest> parsed =
          ParseHexDigest(std::string_view(fields[0]).substr(kSha.size()));
      if (!parsed) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, "sha256: must be followed by 64 hex digits"));
      }
      digest = *parsed;
    } else {
      if (fields[0].size() < kMinTokenLength) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, "token shorter than ", kMinTokenLength, " characters"));
      }
      digest = Sha256(fields[0]);
    }
    if (fields[1].size() > 128) {
      return absl::InvalidArgumentError(absl::StrCat(where, "user name longer than 128 bytes"));
    }
    for (const Entry& entry : table.entries_) {
      if (entry.digest == digest) {
        return absl::InvalidArgumentError(absl::StrCat(where, "duplicate token"));
      }
    }
    table.Add(digest, Principal{fields[1], *role});
  }
  return table;
}

absl::StatusOr<TokenTable> TokenTable::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("--token-file: cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  return Parse(text.str(), path);
}

void TokenTable::Add(const TokenDigest& digest, Principal principal) {
  entries_.push_back(Entry{digest, std::move(principal)});
}

std::optional<Principal> TokenTable::Find(std::string_view token) const {
  const TokenDigest digest = Sha256(token);
  std::optional<Principal> found;
  for (const Entry& entry : entries_) {
    // No early exit: the time taken does not depend on which entry matched.
    if (CRYPTO_memcmp(entry.digest.data(), digest.data(), digest.size()) == 0) {
      found = entry.principal;
    }
  }
  return found;
}

}  // namespace ft::auth
