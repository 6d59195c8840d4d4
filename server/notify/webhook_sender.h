// One HTTP POST of a webhook through libcurl: signed headers, a time limit, no redirects, no
// proxy from the environment, http and https only, and (for a job's URL) every connection's
// address checked against the address policy just before it is made.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "server/notify/address_policy.h"

namespace ft::notify {

struct SenderOptions {
  std::string secret;   // empty: no ftd-Signature header
  std::string ca_file;  // PEM CAs for https receivers (--webhook-ca-file); empty: the system's
  absl::Duration timeout = absl::Seconds(10);  // the whole request
  AddressPolicy policy;
};

struct WebhookRequest {
  std::string url;
  bool operator_url = false;  // the policy is not applied to the operator's own URLs
  std::string delivery_id;
  std::string event_type;
  std::string body;
  int64_t unix_seconds = 0;  // the signature's timestamp
};

struct SendResult {
  long http_status = 0;          // 0 when no answer came (connection error, timeout)
  bool refused_address = false;  // the policy refused the address it would connect to
  std::string error;             // what went wrong, for logs and the outbox row
};

class WebhookSender {
 public:
  // `stopping` (not owned) aborts a transfer in progress when it becomes true.
  WebhookSender(SenderOptions options, const std::atomic<bool>* stopping);
  SendResult Send(const WebhookRequest& request) const;

 private:
  const SenderOptions options_;
  const std::atomic<bool>* const stopping_;
};

}  // namespace ft::notify
