#include "worker/daemon/lease_reporter.h"

#include "spdlog/spdlog.h"
#include "worker/daemon/event_conversion.h"

namespace ft::worker {

LeaseReporter::LeaseReporter(WorkerLink* link, std::string lease_id, std::string job_id,
                             std::chrono::milliseconds heartbeat_interval,
                             std::chrono::milliseconds lease_timeout,
                             const std::atomic<bool>* shutdown)
    : link_(link),
      lease_id_(std::move(lease_id)),
      job_id_(std::move(job_id)),
      heartbeat_interval_(heartbeat_interval),
      lease_timeout_(lease_timeout),
      shutdown_(shutdown),
      last_success_(std::chrono::steady_clock::now()) {
  thread_ = std::thread([this] { Run(); });
}

LeaseReporter::~LeaseReporter() { Flush(); }

void LeaseReporter::Enqueue(ft::v1::JobEvent event, std::vector<double> step_seconds) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(event));
    step_seconds_.insert(step_seconds_.end(), step_seconds.begin(), step_seconds.end());
  }
  wake_.notify_one();
}

void LeaseReporter::OnProgress(const train::ProgressReport& report) {
  Enqueue(ProgressEvent(report), report.step_durations);
}

void LeaseReporter::OnEvaluation(const train::EvalReport& report) {
  Enqueue(EvaluationEvent(report), {});
}

void LeaseReporter::OnLog(const std::string& level, const std::string& message) {
  Enqueue(LogEvent(level, message), {});
}

void LeaseReporter::OnCheckpoint(const train::CheckpointReport& report) {
  Enqueue(CheckpointSavedEvent(report), {});
}

bool LeaseReporter::StopRequested() {
  if (shutdown_ != nullptr && shutdown_->load()) {
    Stop expected = Stop::kNone;
    stop_.compare_exchange_strong(expected, Stop::kShutdown);
  }
  return stop_.load() != Stop::kNone;
}

bool LeaseReporter::SendOnce(std::vector<ft::v1::JobEvent> events,
                             std::vector<double> step_seconds) {
  absl::StatusOr<ft::v1::HeartbeatResponse> response;
  if (events.empty() && step_seconds.empty()) {
    ft::v1::HeartbeatRequest request;
    request.set_lease_id(lease_id_);
    request.set_job_id(job_id_);
    response = link_->Heartbeat(request);
  } else {
    ft::v1::ReportEventsRequest request;
    request.set_lease_id(lease_id_);
    request.set_job_id(job_id_);
    for (auto& event : events) *request.add_events() = std::move(event);
    for (double s : step_seconds) request.add_step_seconds(s);
    response = link_->ReportEvents(request);
  }
  const absl::Status& status = response.status();
  if (status.ok()) {
    last_success_ = std::chrono::steady_clock::now();
    if (response->cancel_requested()) {
      Stop expected = Stop::kNone;
      stop_.compare_exchange_strong(expected, Stop::kCancelRequested);
    }
    return true;
  }
  if (absl::IsFailedPrecondition(status) || absl::IsNotFound(status)) {
    // ftd no longer knows this lease (expired, job ended elsewhere): abandon the job.
    spdlog::warn("{}: lease lost: {}", job_id_, std::string(status.message()));
    stop_.store(Stop::kLeaseLost);
    return true;  // nothing more will be accepted; do not retry
  }
  spdlog::warn("{}: report failed ({}), will retry", job_id_, std::string(status.message()));
  if (std::chrono::steady_clock::now() - last_success_ > lease_timeout_) {
    spdlog::error("{}: could not renew the lease for {} ms; abandoning the job", job_id_,
                  lease_timeout_.count());
    stop_.store(Stop::kLeaseLost);
    return true;
  }
  return false;
}

void LeaseReporter::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    wake_.wait_for(lock, heartbeat_interval_, [&] { return closing_ || !queue_.empty(); });
    std::vector<ft::v1::JobEvent> events(std::make_move_iterator(queue_.begin()),
                                         std::make_move_iterator(queue_.end()));
    std::vector<double> step_seconds = std::move(step_seconds_);
    queue_.clear();
    step_seconds_.clear();
    const bool closing = closing_;
    lock.unlock();
    bool ok = true;
    if (stop_.load() != Stop::kLeaseLost) {
      ok = SendOnce(events, step_seconds);
    }
    lock.lock();
    if (!ok) {
      // Put them back in front, in order, for the next try.
      queue_.insert(queue_.begin(), std::make_move_iterator(events.begin()),
                    std::make_move_iterator(events.end()));
      step_seconds_.insert(step_seconds_.begin(), step_seconds.begin(), step_seconds.end());
      // Retried until delivered or the lease is given up (SendOnce decides), closing or not.
      wake_.wait_for(lock, std::chrono::milliseconds(200));
      continue;
    }
    if (closing && queue_.empty()) {
      delivered_all_ = stop_.load() != Stop::kLeaseLost;
      return;
    }
  }
}

bool LeaseReporter::Flush() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closing_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  return delivered_all_;
}

}  // namespace ft::worker
