// Sends the outbox's due deliveries on threads of its own, so that a slow or dead receiver never
// delays the API or a job: at most `senders` requests are in flight, each bounded by the
// sender's timeout. Per delivery:
//   2xx                                  delivered: the row is removed
//   connection error, timeout, 5xx,
//   408, 425, 429                         retried (retry_schedule.h) until give_up_after has
//                                         passed since the event; then given up
//   other 3xx and 4xx                     given up at once: the receiver refused this request
//                                         and the same bytes would be refused again
//   address refused by the policy         given up at once
// Each give-up is one warning log line and ft_webhook_given_up_total{reason}. Order across
// deliveries is not kept (parallel sends, retries); receivers order by the event's seq.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "server/metrics/webhook_metrics.h"
#include "server/notify/outbox.h"
#include "server/notify/retry_schedule.h"
#include "server/notify/webhook_sender.h"
#include "server/sched/clock.h"

namespace ft::notify {

struct DeliveryLoopOptions {
  int senders = 4;  // --webhook-concurrency: deliveries in flight at once
  RetrySchedule schedule;
  // Longest sleep without a wake-up: bounds how late a row committed by another path is seen.
  absl::Duration idle_poll = absl::Seconds(1);
};

class DeliveryLoop {
 public:
  // Starts the threads. Nothing is owned; all must outlive the loop.
  static std::unique_ptr<DeliveryLoop> Start(DeliveryLoopOptions options, SenderOptions sender,
                                             Outbox* outbox, sched::Clock* clock,
                                             metrics::WebhookMetrics* metrics);
  ~DeliveryLoop();

  // New rows were committed: look now rather than at the next poll.
  void Wake();
  // Aborts transfers in flight (their rows stay due) and joins the threads. Idempotent.
  void Stop();

 private:
  DeliveryLoop(DeliveryLoopOptions options, SenderOptions sender, Outbox* outbox,
               sched::Clock* clock, metrics::WebhookMetrics* metrics);
  void SenderThread();
  // A due row not in flight, now marked in flight; nullopt after waiting for one (or a wake-up,
  // or the poll interval).
  std::optional<OutboxRow> ClaimOrWait();
  void Finish(const OutboxRow& row, const SendResult& result);
  void GiveUp(const OutboxRow& row, metrics::GiveUpReason reason, const std::string& why);

  const DeliveryLoopOptions options_;
  Outbox* const outbox_;
  sched::Clock* const clock_;
  metrics::WebhookMetrics* const metrics_;
  std::atomic<bool> stopping_{false};
  const WebhookSender sender_;

  absl::Mutex mu_;
  std::set<int64_t> in_flight_ ABSL_GUARDED_BY(mu_);
  uint64_t wakeups_ ABSL_GUARDED_BY(mu_) = 0;  // new rows, a finished send, or Stop
  absl::CondVar woken_;
  std::vector<std::thread> threads_;
};

}  // namespace ft::notify
