// ftd's WorkerService in memory for the worker's daemon tests: hands out queued leases, records
// every call, and answers as scripted (a cancel, a lost lease, transient failures).
#pragma once

#include <atomic>
#include <deque>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "worker/daemon/worker_link.h"

namespace ft::worker {

class FakeWorkerLink : public WorkerLink {
 public:
  // The next AcquireJob hands out `lease`.
  void QueueLease(ft::v1::AcquireJobResponse lease) {
    absl::MutexLock lock(&mu_);
    leases_.push_back(std::move(lease));
  }
  // An AcquireJob that finds no lease queued sets this flag (ends a WorkerLoop::Run).
  void SetWhenIdle(std::atomic<bool>* flag) {
    absl::MutexLock lock(&mu_);
    when_idle_ = flag;
  }
  // The next `times` Heartbeat/ReportEvents calls fail with `status` and are not recorded.
  void FailReports(absl::Status status, int times) {
    absl::MutexLock lock(&mu_);
    report_failure_ = std::move(status);
    report_failures_left_ = times;
  }
  // From now on, Heartbeat/ReportEvents answer FAILED_PRECONDITION as for an expired lease.
  void LoseLease() {
    absl::MutexLock lock(&mu_);
    lease_lost_ = true;
  }
  void RequestCancel() {
    absl::MutexLock lock(&mu_);
    cancel_requested_ = true;
  }
  // Heartbeat answers carry this rendezvous store address once `after` heartbeats arrived (a
  // gang's rank 0 reported it meanwhile).
  void AnswerStoreAfter(int after, const std::string& host, uint32_t port) {
    absl::MutexLock lock(&mu_);
    store_after_ = after;
    store_host_ = host;
    store_port_ = port;
  }
  // The next `times` CompleteJob calls fail with `status` (recorded all the same).
  void FailCompletes(absl::Status status, int times) {
    absl::MutexLock lock(&mu_);
    complete_failure_ = std::move(status);
    complete_failures_left_ = times;
  }

  absl::StatusOr<ft::v1::AcquireJobResponse> AcquireJob(
      const ft::v1::AcquireJobRequest& request) override {
    absl::MutexLock lock(&mu_);
    acquires_.push_back(request);
    if (leases_.empty()) {
      if (when_idle_ != nullptr) when_idle_->store(true);
      return ft::v1::AcquireJobResponse();
    }
    ft::v1::AcquireJobResponse lease = std::move(leases_.front());
    leases_.pop_front();
    return lease;
  }
  absl::StatusOr<ft::v1::HeartbeatResponse> Heartbeat(
      const ft::v1::HeartbeatRequest& request) override {
    absl::MutexLock lock(&mu_);
    if (absl::Status refused = RefusalLocked(); !refused.ok()) return refused;
    heartbeats_.push_back(request);
    return AnswerLocked();
  }
  absl::StatusOr<ft::v1::HeartbeatResponse> ReportEvents(
      const ft::v1::ReportEventsRequest& request) override {
    absl::MutexLock lock(&mu_);
    if (absl::Status refused = RefusalLocked(); !refused.ok()) return refused;
    reports_.push_back(request);
    return AnswerLocked();
  }
  absl::Status CompleteJob(const ft::v1::CompleteJobRequest& request) override {
    absl::MutexLock lock(&mu_);
    completes_.push_back(request);
    if (complete_failures_left_ > 0) {
      --complete_failures_left_;
      return complete_failure_;
    }
    return absl::OkStatus();
  }

  std::vector<ft::v1::AcquireJobRequest> acquires() {
    absl::MutexLock lock(&mu_);
    return acquires_;
  }
  std::vector<ft::v1::HeartbeatRequest> heartbeats() {
    absl::MutexLock lock(&mu_);
    return heartbeats_;
  }
  std::vector<ft::v1::ReportEventsRequest> reports() {
    absl::MutexLock lock(&mu_);
    return reports_;
  }
  std::vector<ft::v1::CompleteJobRequest> completes() {
    absl::MutexLock lock(&mu_);
    return completes_;
  }
  // Every event delivered, in the order ftd received them.
  std::vector<ft::v1::JobEvent> events() {
    absl::MutexLock lock(&mu_);
    std::vector<ft::v1::JobEvent> all;
    for (const auto& report : reports_) {
      all.insert(all.end(), report.events().begin(), report.events().end());
    }
    return all;
  }

 private:
  absl::Status RefusalLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (lease_lost_) return absl::FailedPreconditionError("lease expired");
    if (report_failures_left_ > 0) {
      --report_failures_left_;
      return report_failure_;
    }
    return absl::OkStatus();
  }
  ft::v1::HeartbeatResponse AnswerLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    ft::v1::HeartbeatResponse response;
    response.set_cancel_requested(cancel_requested_);
    if (store_port_ != 0 && static_cast<int>(heartbeats_.size()) >= store_after_) {
      response.set_store_host(store_host_);
      response.set_store_port(store_port_);
    }
    return response;
  }

  absl::Mutex mu_;
  std::deque<ft::v1::AcquireJobResponse> leases_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool>* when_idle_ ABSL_GUARDED_BY(mu_) = nullptr;
  absl::Status report_failure_ ABSL_GUARDED_BY(mu_);
  int report_failures_left_ ABSL_GUARDED_BY(mu_) = 0;
  bool lease_lost_ ABSL_GUARDED_BY(mu_) = false;
  bool cancel_requested_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status complete_failure_ ABSL_GUARDED_BY(mu_);
  int complete_failures_left_ ABSL_GUARDED_BY(mu_) = 0;
  int store_after_ ABSL_GUARDED_BY(mu_) = 0;
  std::string store_host_ ABSL_GUARDED_BY(mu_);
  uint32_t store_port_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<ft::v1::AcquireJobRequest> acquires_ ABSL_GUARDED_BY(mu_);
  std::vector<ft::v1::HeartbeatRequest> heartbeats_ ABSL_GUARDED_BY(mu_);
  std::vector<ft::v1::ReportEventsRequest> reports_ ABSL_GUARDED_BY(mu_);
  std::vector<ft::v1::CompleteJobRequest> completes_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ft::worker
