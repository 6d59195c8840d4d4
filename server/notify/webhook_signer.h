// The signature a webhook receiver checks, in Stripe's scheme: HMAC-SHA256 with the shared
// secret over "<unix seconds>.<body>", sent as
//   ftd-Signature: t=<unix seconds>,v1=<lowercase hex>
// The timestamp is inside the signed bytes, so a receiver that refuses old timestamps also
// refuses a replayed request (docs/webhooks.md shows a receiver).
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace ft::notify {

inline constexpr char kSignatureHeader[] = "ftd-Signature";
inline constexpr char kDeliveryHeader[] = "ftd-Delivery";
inline constexpr char kEventHeader[] = "ftd-Event";

// Lowercase hex of HMAC-SHA256(key, message).
std::string HmacSha256Hex(const std::string& key, const std::string& message);

// The header's value: "t=<unix_seconds>,v1=<hex>".
std::string SignatureValue(const std::string& secret, int64_t unix_seconds,
                           const std::string& body);

// The secret in `path` (--webhook-secret-file): its first line, at least 16 bytes. Errors name
// the flag and the file.
absl::StatusOr<std::string> ReadWebhookSecret(const std::string& path);

}  // namespace ft::notify
