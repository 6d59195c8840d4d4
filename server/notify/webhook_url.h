// Which webhook URLs ftd accepts: http or https, with a host, at most kMaxUrlBytes. A job's URLs
// (JobSpec.notify) are checked at SubmitJob; a host that is a literal internal address or a
// localhost name is refused there already unless the policy allows it (address_policy.h); names
// are judged again by the address each delivery connects to.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "server/notify/address_policy.h"

namespace ft::notify {

inline constexpr size_t kMaxUrlBytes = 2048;
inline constexpr int kMaxJobUrls = 8;

struct WebhookUrl {
  std::string scheme;  // "http" or "https"
  std::string host;    // as written; an IPv6 literal without its brackets
};

// INVALID_ARGUMENT naming `field` (e.g. "spec.notify[0]" or "--webhook-url") and what was expected.
absl::StatusOr<WebhookUrl> ParseWebhookUrl(const std::string& url, const std::string& field);

// JobSpec.notify: each URL parsed, at most kMaxJobUrls, internal hosts refused by `policy`.
absl::Status CheckJobWebhookUrls(const google::protobuf::RepeatedPtrField<std::string>& urls,
                                 const AddressPolicy& policy);

}  // namespace ft::notify
