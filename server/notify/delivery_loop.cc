#include "server/notify/delivery_loop.h"

#include <algorithm>

#include "absl/random/random.h"
#include "server/notify/webhook_url.h"
#include "spdlog/spdlog.h"

namespace ft::notify {
namespace {

// Answers that a retry cannot change: redirects (not followed) and client errors, except the
// ones that mean "later" (request timeout, too early, too many requests).
bool IsFinalRefusal(long status) {
  if (status < 300 || status >= 500) return false;
  return status != 408 && status != 425 && status != 429;
}

// The URL's host, for log lines: paths and queries of webhook URLs often carry tokens.
std::string HostOf(const std::string& url) {
  absl::StatusOr<WebhookUrl> parsed = ParseWebhookUrl(url, "url");
  return parsed.ok() ? parsed->host : "?";
}

}  // namespace

std::unique_ptr<DeliveryLoop> DeliveryLoop::Start(DeliveryLoopOptions options, SenderOptions sender,
                                                  Outbox* outbox, sched::Clock* clock,
                                                  metrics::WebhookMetrics* metrics) {
  std::unique_ptr<DeliveryLoop> loop(
      new DeliveryLoop(std::move(options), std::move(sender), outbox, clock, metrics));
  const int threads = std::max(1, loop->options_.senders);
  for (int i = 0; i < threads; ++i) {
    loop->threads_.emplace_back([raw = loop.get()] { raw->SenderThread(); });
  }
  return loop;
}

DeliveryLoop::DeliveryLoop(DeliveryLoopOptions options, SenderOptions sender, Outbox* outbox,
                           sched::Clock* clock, metrics::WebhookMetrics* metrics)
    : options_(std::move(options)),
      outbox_(outbox),
      clock_(clock),
      metrics_(metrics),
      sender_(std::move(sender), &stopping_) {}

DeliveryLoop::~DeliveryLoop() { Stop(); }

void DeliveryLoop::Wake() {
  absl::MutexLock lock(&mu_);
  ++wakeups_;
  woken_.SignalAll();
}

void DeliveryLoop::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    ++wakeups_;
    woken_.SignalAll();
  }
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

std::optional<OutboxRow> DeliveryLoop::ClaimOrWait() {
  absl::MutexLock lock(&mu_);
  const uint64_t seen = wakeups_;
  const absl::Time now = clock_->Now();
  absl::Duration wait = options_.idle_poll;
  absl::StatusOr<std::vector<OutboxRow>> due = outbox_->Due(now, 1, in_flight_);
  if (due.ok() && !due->empty()) {
    in_flight_.insert(due->front().id);
    return std::move(due->front());
  }
  if (!due.ok()) {
    spdlog::warn("webhooks: outbox not readable: {}", std::string(due.status().message()));
  } else if (absl::StatusOr<std::optional<absl::Time>> next = outbox_->NextDue();
             next.ok() && next->has_value() && **next > now) {
    // A row due now is in flight on another thread: its Finish wakes us.
    wait = std::min(wait, **next - now);
  }
  if (metrics_ != nullptr) {
    if (absl::StatusOr<int64_t> rows = outbox_->Count(); rows.ok()) metrics_->SetOutboxRows(*rows);
  }
  // A spurious or early return only makes the caller look again.
  if (wakeups_ == seen) woken_.WaitWithTimeout(&mu_, wait);
  return std::nullopt;
}

void DeliveryLoop::SenderThread() {
  while (!stopping_) {
    std::optional<OutboxRow> row = ClaimOrWait();
    if (!row) continue;
    WebhookRequest request;
    request.url = row->url;
    request.operator_url = row->operator_url;
    request.delivery_id = row->delivery_id;
    request.event_type = row->event_type;
    request.body = row->body;
    request.unix_seconds = absl::ToUnixSeconds(clock_->Now());
    const SendResult result = sender_.Send(request);
    // A transfer aborted by Stop stays due as it was, for the next start.
    if (!stopping_) Finish(*row, result);
    absl::MutexLock lock(&mu_);
    in_flight_.erase(row->id);
    ++wakeups_;
    woken_.SignalAll();
  }
}

void DeliveryLoop::GiveUp(const OutboxRow& row, metrics::GiveUpReason reason,
                          const std::string& why) {
  if (absl::Status status = outbox_->Remove(row.id); !status.ok()) {
    spdlog::warn("webhooks: delivery {} not removed: {}", row.delivery_id,
                 std::string(status.message()));
    return;
  }
  spdlog::warn("{}: webhook {} ({}) to {} given up after {} attempt(s): {}", row.job_id,
               row.delivery_id, row.event_type, HostOf(row.url), row.attempts + 1, why);
  if (metrics_ != nullptr) metrics_->OnGivenUp(reason);
}

void DeliveryLoop::Finish(const OutboxRow& row, const SendResult& result) {
  if (result.error.empty()) {
    if (absl::Status status = outbox_->Remove(row.id); !status.ok()) {
      // Sent again later: a duplicate with the same delivery id, which receivers drop.
      spdlog::warn("webhooks: delivered {} not removed: {}", row.delivery_id,
                   std::string(status.message()));
    }
    if (metrics_ != nullptr) metrics_->OnDelivered();
    return;
  }
  if (result.refused_address) {
    GiveUp(row, metrics::GiveUpReason::kRefused, result.error);
    return;
  }
  if (IsFinalRefusal(result.http_status)) {
    GiveUp(row, metrics::GiveUpReason::kRejected, result.error);
    return;
  }
  const int attempts = row.attempts + 1;
  const absl::Time now = clock_->Now();
  const std::optional<absl::Time> next = NextAttempt(options_.schedule, row.created, now, attempts,
                                                     absl::Uniform<double>(absl::BitGen(), 0, 1));
  if (!next) {
    GiveUp(row, metrics::GiveUpReason::kExpired,
           result.error + " (retried for --webhook-give-up-seconds)");
    return;
  }
  if (absl::Status status = outbox_->Reschedule(row.id, attempts, *next, result.error);
      !status.ok()) {
    spdlog::warn("webhooks: delivery {} not rescheduled: {}", row.delivery_id,
                 std::string(status.message()));
  }
  if (metrics_ != nullptr) metrics_->OnAttemptFailed();
  spdlog::debug("{}: webhook {} to {} failed ({}); attempt {} in {}", row.job_id, row.delivery_id,
                HostOf(row.url), result.error, attempts + 1, absl::FormatDuration(*next - now));
}

}  // namespace ft::notify
