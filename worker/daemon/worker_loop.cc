#include "worker/daemon/worker_loop.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "common/spec/spec_validation.h"
#include "spdlog/spdlog.h"
#include "worker/daemon/gang_rendezvous.h"
#include "worker/daemon/lease_reporter.h"
#include "worker/daemon/remote_inputs.h"
#include "worker/daemon/spec_to_options.h"

namespace ft::worker {

WorkerLoop::WorkerLoop(WorkerLoopOptions options, WorkerLink* link, TrainFunction train,
                       const std::atomic<bool>* shutdown)
    : options_(std::move(options)), link_(link), train_(std::move(train)), shutdown_(shutdown) {}

int WorkerLoop::Run() {
  spdlog::info("worker {} polling {} for jobs", options_.worker_id, options_.server);
  auto backoff = std::chrono::milliseconds(options_.idle_poll_ms);
  while (!shutdown_->load()) {
    ft::v1::AcquireJobRequest request;
    request.set_worker_id(options_.worker_id);
    request.set_device(options_.device);
    const absl::StatusOr<ft::v1::AcquireJobResponse> response = link_->AcquireJob(request);
    if (!response.ok()) {
      // ftd may be restarting: keep trying, backing off to 5 s.
      spdlog::warn("AcquireJob failed: {}", std::string(response.status().message()));
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
    } else if (response->has_job()) {
      backoff = std::chrono::milliseconds(options_.idle_poll_ms);
      RunJob(*response);
      continue;
    } else {
      backoff = std::chrono::milliseconds(options_.idle_poll_ms);
    }
    for (auto waited = std::chrono::milliseconds(0); waited < backoff && !shutdown_->load();
         waited += std::chrono::milliseconds(50)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  spdlog::info("worker {} stopping", options_.worker_id);
  return 0;
}

void WorkerLoop::Complete(const ft::v1::AcquireJobResponse& lease, ft::v1::JobState state,
                          const std::string& error) {
  ft::v1::CompleteJobRequest request;
  request.set_lease_id(lease.lease_id());
  request.set_job_id(lease.job().id());
  request.set_final_state(state);
  request.set_error(error);
  // Retried for a while: the outcome of hours of training must not be lost to a blip.
  for (int attempt = 0; attempt < 20 && !shutdown_->load(); ++attempt) {
    const absl::Status status = link_->CompleteJob(request);
    if (status.ok()) return;
    if (!absl::IsUnavailable(status) && !absl::IsDeadlineExceeded(status)) {
      spdlog::error("{}: CompleteJob refused: {}", lease.job().id(), std::string(status.message()));
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

void WorkerLoop::RunJob(const ft::v1::AcquireJobResponse& lease) {
  const ft::v1::Job& job = lease.job();
  if (lease.world_size() > 1) {
    spdlog::info("{}: attempt {} starting as rank {} of {} (rendezvous key {})", job.id(),
                 job.attempt(), lease.rank(), lease.world_size(), lease.rendezvous_key());
  } else {
    spdlog::info("{}: attempt {} starting", job.id(), job.attempt());
  }
  // Files may have changed since ftd validated the spec.
  if (absl::Status status = spec::ValidateSpec(job.spec()); !status.ok()) {
    Complete(lease, ft::v1::FAILED, std::string(status.message()));
    return;
  }
  LeaseReporter reporter(link_, lease.lease_id(), job.id(),
                         std::chrono::milliseconds(lease.heartbeat_interval_ms()),
                         std::chrono::milliseconds(lease.lease_timeout_ms()), shutdown_);
  train::TrainOptions train_options = ToTrainOptions(job.spec(), job.output_dir(), options_.threads);
  train_options.token_cache_dir = options_.token_cache_dir;
  train_options.memory_budget_mb = options_.memory_budget_mb;
  train_options.cpu_replicas = options_.cpu_replicas;
  if (absl::Status inputs = ResolveRemoteInputs(job.spec(), options_.datasets_dir, train_options,
                                                &reporter);
      !inputs.ok()) {
    reporter.Flush();
    Complete(lease, ft::v1::FAILED, std::string(inputs.message()));
    return;
  }
  const GangRendezvous gang =
      PrepareRendezvous(lease, link_, options_.advertise_host,
                        std::chrono::milliseconds(std::min(options_.idle_poll_ms, 200)), shutdown_);
  switch (gang.outcome) {
    case GangRendezvous::Outcome::kReady:
      break;
    case GangRendezvous::Outcome::kCancelled:
      reporter.Flush();
      Complete(lease, ft::v1::CANCELLED, "");
      return;
    case GangRendezvous::Outcome::kLeaseLost:
    case GangRendezvous::Outcome::kShutdown:
      reporter.Flush();
      spdlog::warn("{}: rank {} abandoned before training (gang ended or worker stopping)",
                   job.id(), lease.rank());
      return;
  }
  train_options.distributed = gang.options;
  const train::TrainOutcome outcome = train_(train_options, &reporter);
  reporter.Flush();
  switch (reporter.stop_reason()) {
    case LeaseReporter::Stop::kLeaseLost:
    case LeaseReporter::Stop::kShutdown:
      // ftd re-queues the job (lease expiry or restart); reporting now would be refused.
      spdlog::warn("{}: abandoned (lease lost or worker shutting down)", job.id());
      return;
    default:
      break;
  }
  switch (outcome.status) {
    case train::TrainOutcome::Status::kSucceeded:
      spdlog::info("{}: succeeded after {} steps", job.id(), outcome.steps);
      Complete(lease, ft::v1::SUCCEEDED, "");
      break;
    case train::TrainOutcome::Status::kCancelled:
      Complete(lease, ft::v1::CANCELLED, "");
      break;
    case train::TrainOutcome::Status::kFailed:
      spdlog::error("{}: failed: {}", job.id(), outcome.error);
      Complete(lease, ft::v1::FAILED, outcome.error);
      break;
  }
}

}  // namespace ft::worker
