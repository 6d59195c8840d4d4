// A data-parallel lease (rank, world size, rendezvous key) turned into the trainer's
// DistributedOptions (docs/distributed.md, "Rendezvous"). Rank 0 hosts c10d's store on a free
// port and reports host:port to ftd through Heartbeat; every other rank asks ftd (Heartbeat
// answers) until rank 0 has reported, and only then starts training.
#pragma once

#include <atomic>
#include <chrono>
#include <string>

#include "ft/v1/worker_service.pb.h"
#include "worker/daemon/worker_link.h"
#include "worker/distributed/distributed_options.h"

namespace ft::worker {

struct GangRendezvous {
  enum class Outcome { kReady, kCancelled, kLeaseLost, kShutdown };
  Outcome outcome = Outcome::kReady;
  train::DistributedOptions options;  // meaningful when kReady
};

// This host's name (gethostname): what other hosts usually resolve. ftd's local workers are
// given 127.0.0.1 instead, and Kubernetes pods their IP (deploy/k8s).
std::string DefaultAdvertiseHost();

// For world size 1 (or a lease without one) returns default options at once. `advertise_host`
// is where the other ranks reach this worker (ftworker --advertise-host). `link` must outlive
// the returned options (rank 0's on_store_listening calls it from the training thread).
GangRendezvous PrepareRendezvous(const ft::v1::AcquireJobResponse& lease, WorkerLink* link,
                                 const std::string& advertise_host,
                                 std::chrono::milliseconds poll_interval,
                                 const std::atomic<bool>* shutdown);

}  // namespace ft::worker
