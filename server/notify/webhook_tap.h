// Turns stored job events into outbox rows, in the transaction that stores them: one row per
// webhook URL (the operator's --webhook-url ones, then the job's JobSpec.notify) for each state
// change, and for each evaluation with --webhook-evaluations. So a state change is acknowledged
// (SubmitJob's answer, a worker's report) only once its webhooks are durable beside it, and a
// change that rolls back sends nothing.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "server/store/event_tap.h"

namespace ft::notify {

struct WebhookTapOptions {
  std::vector<std::string> operator_urls;  // --webhook-url, for every job
  bool evaluations = false;                // --webhook-evaluations
};

class WebhookTap : public store::EventTap {
 public:
  explicit WebhookTap(WebhookTapOptions options) : options_(std::move(options)) {}

  // Called after a write that added rows is durable (the delivery loop's wake-up).
  void SetOnRowsAdded(std::function<void()> callback);

  absl::Status OnEventAppended(store::SqliteDb& db, const ft::v1::Job& job,
                               const ft::v1::JobEvent& event) override;
  void AfterDurableWrite() override;

 private:
  const WebhookTapOptions options_;
  std::atomic<bool> added_{false};
  absl::Mutex mu_;
  std::function<void()> on_rows_added_ ABSL_GUARDED_BY(mu_);
};

// A fresh random delivery id: 32 hex digits.
std::string NewDeliveryId();

}  // namespace ft::notify
