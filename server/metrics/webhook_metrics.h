// Metrics of webhook delivery (server/notify/): what was delivered, retried and given up, and
// how many deliveries wait in the outbox.
#pragma once

#include <cstdint>

#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"

namespace ft::metrics {

enum class GiveUpReason {
  kExpired,   // retried until --webhook-give-up-seconds had passed
  kRejected,  // a 3xx or 4xx answer that a retry cannot change
  kRefused,   // the address policy refused the address it resolved to
};

class WebhookMetrics {
 public:
  explicit WebhookMetrics(prometheus::Registry& registry);

  void OnDelivered() { delivered_->Increment(); }
  void OnAttemptFailed() { attempts_failed_->Increment(); }
  void OnGivenUp(GiveUpReason reason);
  void SetOutboxRows(int64_t rows) { outbox_rows_->Set(static_cast<double>(rows)); }

 private:
  prometheus::Counter* delivered_;
  prometheus::Counter* attempts_failed_;
  prometheus::Counter* given_up_expired_;
  prometheus::Counter* given_up_rejected_;
  prometheus::Counter* given_up_refused_;
  prometheus::Gauge* outbox_rows_;
};

}  // namespace ft::metrics
