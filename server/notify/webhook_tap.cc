#include "server/notify/webhook_tap.h"

#include "absl/random/random.h"
#include "absl/strings/str_format.h"
#include "common/util/status_macros.h"
#include "server/notify/outbox.h"
#include "server/notify/webhook_payload.h"

namespace ft::notify {

std::string NewDeliveryId() {
  absl::BitGen random;
  return absl::StrFormat("%016x%016x", absl::Uniform<uint64_t>(random),
                         absl::Uniform<uint64_t>(random));
}

void WebhookTap::SetOnRowsAdded(std::function<void()> callback) {
  absl::MutexLock lock(&mu_);
  on_rows_added_ = std::move(callback);
}

absl::Status WebhookTap::OnEventAppended(store::SqliteDb& db, const ft::v1::Job& job,
                                         const ft::v1::JobEvent& event) {
  const std::optional<std::string> type = WebhookEventType(event, options_.evaluations);
  if (!type) return absl::OkStatus();
  const auto add = [&](const std::string& url, bool operator_url) -> absl::Status {
    OutboxRow row;
    row.delivery_id = NewDeliveryId();
    row.url = url;
    row.operator_url = operator_url;
    row.event_type = *type;
    row.job_id = job.id();
    row.body = WebhookBody(row.delivery_id, *type, job, event);
    row.created =
        absl::FromUnixSeconds(event.time().seconds()) + absl::Nanoseconds(event.time().nanos());
    return Outbox::Add(db, row);
  };
  for (const std::string& url : options_.operator_urls) FT_RETURN_IF_ERROR(add(url, true));
  for (const std::string& url : job.spec().notify()) FT_RETURN_IF_ERROR(add(url, false));
  if (!options_.operator_urls.empty() || !job.spec().notify().empty()) added_ = true;
  return absl::OkStatus();
}

void WebhookTap::AfterDurableWrite() {
  if (!added_.exchange(false)) return;
  absl::MutexLock lock(&mu_);
  if (on_rows_added_) on_rows_added_();
}

}  // namespace ft::notify
