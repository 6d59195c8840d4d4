#include "server/notify/webhook_signer.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace ft::notify {

std::string HmacSha256Hex(const std::string& key, const std::string& message) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &length);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), length));
}

std::string SignatureValue(const std::string& secret, int64_t unix_seconds,
                           const std::string& body) {
  return absl::StrCat("t=", unix_seconds,
                      ",v1=", HmacSha256Hex(secret, absl::StrCat(unix_seconds, ".", body)));
}

absl::StatusOr<std::string> ReadWebhookSecret(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("--webhook-secret-file: cannot read ", path));
  }
  std::string line;
  std::getline(in, line);
  const std::string secret(absl::StripAsciiWhitespace(line));
  // Short secrets are guessable offline from one signed body.
  if (secret.size() < 16) {
    return absl::InvalidArgumentError(
        absl::StrCat("--webhook-secret-file: ", path,
                     ": the first line must hold a secret of at least 16 "
                     "characters (e.g. `openssl rand -hex 32`)"));
  }
  return secret;
}

}  // namespace ft::notify
