#include "server/metrics/webhook_metrics.h"

namespace ft::metrics {

WebhookMetrics::WebhookMetrics(prometheus::Registry& registry) {
  delivered_ = &prometheus::BuildCounter()
                    .Name("ft_webhook_delivered_total")
                    .Help("Webhook deliveries answered with 2xx")
                    .Register(registry)
                    .Add({});
  attempts_failed_ = &prometheus::BuildCounter()
                          .Name("ft_webhook_failed_attempts_total")
                          .Help(
                              "Webhook attempts that failed and were scheduled again "
                              "(connection error, timeout, 5xx, 408, 425, 429)")
                          .Register(registry)
                          .Add({});
  auto& given_up = prometheus::BuildCounter()
                       .Name("ft_webhook_given_up_total")
                       .Help("Webhook deliveries given up, by reason (expired, rejected, refused)")
                       .Register(registry);
  given_up_expired_ = &given_up.Add({{"reason", "expired"}});
  given_up_rejected_ = &given_up.Add({{"reason", "rejected"}});
  given_up_refused_ = &given_up.Add({{"reason", "refused"}});
  outbox_rows_ = &prometheus::BuildGauge()
                      .Name("ft_webhook_outbox_deliveries")
                      .Help("Webhook deliveries waiting in the outbox (due or backing off)")
                      .Register(registry)
                      .Add({});
}

void WebhookMetrics::OnGivenUp(GiveUpReason reason) {
  switch (reason) {
    case GiveUpReason::kExpired:
      given_up_expired_->Increment();
      return;
    case GiveUpReason::kRejected:
      given_up_rejected_->Increment();
      return;
    case GiveUpReason::kRefused:
      given_up_refused_->Increment();
      return;
  }
}

}  // namespace ft::metrics
