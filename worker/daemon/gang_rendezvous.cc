#include "worker/daemon/gang_rendezvous.h"

#include <unistd.h>

#include <climits>
#include <thread>

#include "spdlog/spdlog.h"

namespace ft::worker {
namespace {

ft::v1::HeartbeatRequest HeartbeatFor(const ft::v1::AcquireJobResponse& lease) {
  ft::v1::HeartbeatRequest request;
  request.set_lease_id(lease.lease_id());
  request.set_job_id(lease.job().id());
  return request;
}

// Tells ftd where rank 0's store listens. Retried through transport blips: without it the other
// ranks never start, and the gang's attempt ends when their c10d timeout runs out.
void ReportStore(WorkerLink* link, ft::v1::HeartbeatRequest request, const std::string& host,
                 int port) {
  request.set_store_host(host);
  request.set_store_port(static_cast<uint32_t>(port));
  for (int attempt = 0; attempt < 20; ++attempt) {
    const absl::StatusOr<ft::v1::HeartbeatResponse> response = link->Heartbeat(request);
    if (response.ok()) return;
    if (!absl::IsUnavailable(response.status()) && !absl::IsDeadlineExceeded(response.status())) {
      spdlog::error("{}: ftd refused the rendezvous address {}:{}: {}", request.job_id(), host,
                    port, std::string(response.status().message()));
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

}  // namespace

std::string DefaultAdvertiseHost() {
  char name[HOST_NAME_MAX + 1] = {};
  if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0') return "127.0.0.1";
  return name;
}

GangRendezvous PrepareRendezvous(const ft::v1::AcquireJobResponse& lease, WorkerLink* link,
                                 const std::string& advertise_host,
                                 std::chrono::milliseconds poll_interval,
                                 const std::atomic<bool>* shutdown) {
  GangRendezvous result;
  if (lease.world_size() <= 1) return result;
  train::DistributedOptions& options = result.options;
  options.rank = static_cast<int>(lease.rank());
  options.world_size = static_cast<int>(lease.world_size());
  options.store_prefix = lease.rendezvous_key();
  // A rank that dies or hangs must not block the others in a collective for longer than ftd
  // takes to notice the lost lease and end the attempt.
  if (lease.lease_timeout_ms() > 0) options.timeout_seconds = lease.lease_timeout_ms() / 1000.0;
  const ft::v1::HeartbeatRequest heartbeat = HeartbeatFor(lease);
  if (options.rank == 0) {
    options.store_host = advertise_host;
    options.store_port = 0;  // any free port, reported once bound
    options.on_store_listening = [link, heartbeat, advertise_host](int port) {
      ReportStore(link, heartbeat, advertise_host, port);
    };
    return result;
  }
  const auto lease_timeout = std::chrono::milliseconds(lease.lease_timeout_ms());
  auto last_answer = std::chrono::steady_clock::now();
  while (shutdown == nullptr || !shutdown->load()) {
    const absl::StatusOr<ft::v1::HeartbeatResponse> response = link->Heartbeat(heartbeat);
    if (response.ok()) {
      last_answer = std::chrono::steady_clock::now();
      if (response->cancel_requested()) {
        result.outcome = GangRendezvous::Outcome::kCancelled;
        return result;
      }
      if (response->store_port() != 0) {
        options.store_host = response->store_host();
        options.store_port = static_cast<int>(response->store_port());
        spdlog::info("{}: rank {} of {} meets rank 0 at {}:{}", lease.job().id(), options.rank,
                     options.world_size, options.store_host, options.store_port);
        return result;
      }
    } else if (absl::IsFailedPrecondition(response.status()) ||
               absl::IsNotFound(response.status())) {
      // The gang's attempt ended (another rank's lease was lost) before it started.
      spdlog::warn("{}: lease lost while waiting for rank 0: {}", lease.job().id(),
                   std::string(response.status().message()));
      result.outcome = GangRendezvous::Outcome::kLeaseLost;
      return result;
    } else if (std::chrono::steady_clock::now() - last_answer > lease_timeout) {
      spdlog::warn(
          "{}: ftd unreachable for longer than the lease timeout while waiting for "
          "rank 0: {}",
          lease.job().id(), std::string(response.status().message()));
      result.outcome = GangRendezvous::Outcome::kLeaseLost;
      return result;
    }
    std::this_thread::sleep_for(poll_interval);
  }
  result.outcome = GangRendezvous::Outcome::kShutdown;
  return result;
}

}  // namespace ft::worker
