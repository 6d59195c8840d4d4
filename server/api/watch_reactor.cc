#include "server/api/watch_reactor.h"

#include "server/api/grpc_status.h"
#include "server/sched/job_manager.h"

namespace ft::api {

class WatchReactor::Waker : public sched::EventListener {
 public:
  explicit Waker(WatchReactor* reactor) : reactor_(reactor) {}
  void OnNewEvents() override {
    absl::MutexLock lock(&mu_);
    if (reactor_ != nullptr) reactor_->Pump();
  }
  void Detach() {
    absl::MutexLock lock(&mu_);
    reactor_ = nullptr;
  }

 private:
  absl::Mutex mu_;
  WatchReactor* reactor_;
};

WatchReactor* WatchReactor::Start(store::JobStore* store, sched::EventHub* hub,
                                  metrics::ServerMetrics* metrics, std::string job_id,
                                  uint64_t after_seq, std::unique_ptr<WatcherLimits::Slot> slot) {
  auto* reactor = new WatchReactor(store, hub, metrics, std::move(job_id), after_seq);
  reactor->slot_ = std::move(slot);
  absl::StatusOr<ft::v1::Job> job = store->GetJob(reactor->job_id_);
  if (!job.ok()) {
    reactor->FinishOnce(ToGrpcStatus(job.status()));
    return reactor;
  }
  // An ended job whose final event the client already has: nothing will ever follow, and the
  // stream ends only after sending a final event, so end it here.
  if (sched::IsFinal(job->state()) && after_seq >= job->last_event_seq()) {
    reactor->FinishOnce(grpc::Status::OK);
    return reactor;
  }
  // Subscribe before the first read, so that no event stored in between is missed.
  hub->Subscribe(reactor->job_id_, reactor->waker_);
  reactor->Pump();
  return reactor;
}

WatchReactor::WatchReactor(store::JobStore* store, sched::EventHub* hub,
                           metrics::ServerMetrics* metrics, std::string job_id, uint64_t after_seq)
    : store_(store),
      hub_(hub),
      metrics_(metrics),
      job_id_(std::move(job_id)),
      waker_(std::make_shared<Waker>(this)),
      last_sent_(after_seq) {}

void WatchReactor::Pump() {
  {
    absl::MutexLock lock(&mu_);
    // One pump at a time; a wake-up during a pump makes it look again.
    if (pumping_) {
      pump_again_ = true;
      return;
    }
    if (writing_ || finished_) return;
    pumping_ = true;
  }
  while (true) {
    uint64_t after;
    bool need_fetch;
    {
      absl::MutexLock lock(&mu_);
      after = pending_.empty() ? last_sent_ : pending_.back().seq();
      need_fetch = pending_.empty();
      pump_again_ = false;
    }
    std::vector<ft::v1::JobEvent> fetched;
    if (need_fetch) {
      std::optional<std::vector<ft::v1::JobEvent>> cached =
          hub_->CachedAfter(job_id_, after, kBatch);
      if (cached) {
        fetched = std::move(*cached);
      } else {
        absl::StatusOr<std::vector<ft::v1::JobEvent>> stored =
            store_->ReadEvents(job_id_, after, kBatch);
        if (!stored.ok()) {
          {
            absl::MutexLock lock(&mu_);
            pumping_ = false;
          }
          FinishOnce(ToGrpcStatus(stored.status()));
          return;
        }
        fetched = std::move(*stored);
      }
    }
    const ft::v1::JobEvent* to_write = nullptr;
    bool finish = false;
    {
      absl::MutexLock lock(&mu_);
      for (auto& event : fetched) pending_.push_back(std::move(event));
      if (!pending_.empty()) {
        writing_ = true;
        to_write = &pending_.front();
      } else if (saw_final_) {
        finish = true;
      } else if (pump_again_) {
        continue;  // a wake-up came while reading: look again
      }
      pumping_ = false;
    }
    if (to_write != nullptr) StartWrite(to_write);
    if (finish) FinishOnce(grpc::Status::OK);
    return;
  }
}

void WatchReactor::OnWriteDone(bool ok) {
  if (!ok) {
    FinishOnce(grpc::Status(grpc::StatusCode::UNAVAILABLE, "stream closed"));
    return;
  }
  {
    absl::MutexLock lock(&mu_);
    const ft::v1::JobEvent& sent = pending_.front();
    last_sent_ = sent.seq();
    if (sent.has_state_change() && sched::IsFinal(sent.state_change().to())) saw_final_ = true;
    pending_.pop_front();
    writing_ = false;
  }
  Pump();
}

void WatchReactor::OnCancel() { FinishOnce(grpc::Status::CANCELLED); }

void WatchReactor::FinishOnce(const grpc::Status& status) {
  {
    absl::MutexLock lock(&mu_);
    if (finished_) return;
    finished_ = true;
  }
  if (metrics_ != nullptr) metrics_->OnRpc("WatchJob", GrpcCodeName(status.error_code()), -1);
  Finish(status);
}

void WatchReactor::OnDone() {
  waker_->Detach();
  hub_->Unsubscribe(job_id_, waker_.get());
  delete this;
}

}  // namespace ft::api
