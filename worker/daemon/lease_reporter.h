// Runs beside one training job: ships its events to ftd as soon as they come (ReportEvents),
// heartbeats when there is nothing to send, and turns ftd's answers into the trainer's stop
// signal. Training never waits on the network: the trainer only appends to a queue.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "worker/daemon/worker_link.h"
#include "worker/train/train_job.h"

namespace ft::worker {

class LeaseReporter : public train::TrainObserver {
 public:
  enum class Stop { kNone, kCancelRequested, kLeaseLost, kShutdown };

  // `link` is not owned and must outlive the reporter.
  LeaseReporter(WorkerLink* link, std::string lease_id, std::string job_id,
                std::chrono::milliseconds heartbeat_interval,
                std::chrono::milliseconds lease_timeout, const std::atomic<bool>* shutdown);
  ~LeaseReporter() override;

  // TrainObserver (called on the training thread).
  void OnProgress(const train::ProgressReport& report) override;
  void OnEvaluation(const train::EvalReport& report) override;
  void OnLog(const std::string& level, const std::string& message) override;
  void OnCheckpoint(const train::CheckpointReport& report) override;
  bool StopRequested() override;
  // A worker shutting down (SIGTERM) checkpoints its job before it abandons it.
  bool CheckpointBeforeStopping() override { return stop_.load() == Stop::kShutdown; }

  // Sends what is queued and stops the background thread. True when everything was delivered.
  bool Flush();
  Stop stop_reason() const { return stop_.load(); }

 private:
  void Run();
  void Enqueue(ft::v1::JobEvent event, std::vector<double> step_seconds);
  // One ReportEvents or Heartbeat call; updates stop_. False on an error worth retrying.
  bool SendOnce(std::vector<ft::v1::JobEvent> events, std::vector<double> step_seconds);

  WorkerLink* const link_;
  const std::string lease_id_;
  const std::string job_id_;
  const std::chrono::milliseconds heartbeat_interval_;
  const std::chrono::milliseconds lease_timeout_;
  const std::atomic<bool>* shutdown_;

  std::atomic<Stop> stop_{Stop::kNone};
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<ft::v1::JobEvent> queue_;
  std::vector<double> step_seconds_;
  bool closing_ = false;
  bool delivered_all_ = true;
  std::chrono::steady_clock::time_point last_success_;
  std::thread thread_;
};

}  // namespace ft::worker
