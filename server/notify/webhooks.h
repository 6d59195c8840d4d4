// ftd's webhooks assembled (docs/webhooks.md): the options, the tap that fills the outbox beside
// the job log, and the delivery loop. Create before the job store (the store takes tap()), Start
// once the store is open, Stop before the store closes.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/metrics/webhook_metrics.h"
#include "server/notify/address_policy.h"
#include "server/notify/delivery_loop.h"
#include "server/notify/outbox.h"
#include "server/notify/retry_schedule.h"
#include "server/notify/webhook_tap.h"
#include "server/sched/clock.h"
#include "server/store/job_store.h"

namespace ft::notify {

struct WebhookOptions {
  std::vector<std::string> urls;  // --webhook-url: every job's state changes
  std::string secret_file;        // --webhook-secret-file; empty: deliveries are not signed
  std::string ca_file;            // --webhook-ca-file
  AddressPolicy policy;           // --webhook-allow-private (jobs' URLs only)
  bool evaluations = false;       // --webhook-evaluations
  int concurrency = 4;            // --webhook-concurrency
  absl::Duration timeout = absl::Seconds(10);  // --webhook-timeout-seconds
  RetrySchedule schedule;  // --webhook-retry-base-seconds, --webhook-give-up-seconds
};

class Webhooks {
 public:
  // INVALID_ARGUMENT naming the flag for a bad --webhook-url or secret file.
  static absl::StatusOr<std::unique_ptr<Webhooks>> Create(WebhookOptions options);
  ~Webhooks();

  store::EventTap* tap() { return &tap_; }
  const AddressPolicy& policy() const { return options_.policy; }
  // Starts delivering (rows left by an earlier run included).
  void Start(store::JobStore* store, sched::Clock* clock, metrics::WebhookMetrics* metrics);
  void Stop();

 private:
  Webhooks(WebhookOptions options, std::string secret);

  const WebhookOptions options_;
  const std::string secret_;
  WebhookTap tap_;
  std::unique_ptr<Outbox> outbox_;
  std::unique_ptr<DeliveryLoop> loop_;
};

}  // namespace ft::notify
