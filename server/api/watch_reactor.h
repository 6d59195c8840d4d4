// Server side of one WatchJob stream. Replays the stored events after `after_seq`, then follows
// the job live, and finishes after the event that ends the job. It pulls events (from the hub's
// cache, else the store) only when its previous write is done, so it buffers at most one batch
// and a slow client only delays itself.
#pragma once

#include <deque>
#include <memory>
#include <string>

#include "absl/synchronization/mutex.h"
#include "ft/v1/event.pb.h"
#include "grpcpp/grpcpp.h"
#include "server/api/watcher_limits.h"
#include "server/metrics/server_metrics.h"
#include "server/sched/event_hub.h"
#include "server/store/job_store.h"

namespace ft::api {

class WatchReactor : public grpc::ServerWriteReactor<ft::v1::JobEvent> {
 public:
  // Starts the stream; the reactor deletes itself when gRPC is done with it.
  // `slot` (may be null) is held until the stream is done.
  static WatchReactor* Start(store::JobStore* store, sched::EventHub* hub,
                             metrics::ServerMetrics* metrics, std::string job_id,
                             uint64_t after_seq,
                             std::unique_ptr<WatcherLimits::Slot> slot = nullptr);

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  // Bridges hub wake-ups to this reactor; outlives it safely (the hub may hold it a moment).
  class Waker;

  WatchReactor(store::JobStore* store, sched::EventHub* hub, metrics::ServerMetrics* metrics,
               std::string job_id, uint64_t after_seq);
  // Starts the next write, or finishes the stream, unless a write is in flight.
  void Pump();
  void FinishOnce(const grpc::Status& status);

  static constexpr int kBatch = 64;

  store::JobStore* const store_;
  sched::EventHub* const hub_;
  metrics::ServerMetrics* const metrics_;
  const std::string job_id_;
  std::shared_ptr<Waker> waker_;
  std::unique_ptr<WatcherLimits::Slot> slot_;

  absl::Mutex mu_;
  uint64_t last_sent_ ABSL_GUARDED_BY(mu_);
  std::deque<ft::v1::JobEvent> pending_ ABSL_GUARDED_BY(mu_);
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  bool saw_final_ ABSL_GUARDED_BY(mu_) = false;
  bool pump_again_ ABSL_GUARDED_BY(mu_) = false;
  bool pumping_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace ft::api
