// The job state machine, queue and worker leases: everything ftd decides about jobs, with no gRPC
// types, so that it is tested directly. States and transitions:
//
//   QUEUED -> RUNNING -> SUCCEEDED | FAILED | CANCELLED
//   QUEUED -> CANCELLED                      (cancel before a worker took it)
//   RUNNING -> CANCELLING -> CANCELLED        (the worker stops, or is killed after a grace period)
//   RUNNING -> QUEUED, attempt + 1            (lease lost: ftd restarted, worker died or went
//                                             silent; FAILED once max_attempts have run)
//
// A data-parallel job (spec.world_size N > 1) runs as a gang of N leases, one per rank, formed
// all at once (gang_plan.h). Losing any rank's lease, or any rank failing, ends the attempt for
// the whole gang: the other leases are dropped (their workers hear it on their next heartbeat)
// and the job is re-queued like a job whose worker died.
//
// Every transition and every report is an event in the job's log, stored before it is published.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "ft/v1/event.pb.h"
#include "ft/v1/job.pb.h"
#include "server/sched/clock.h"
#include "server/sched/event_hub.h"
#include "server/sched/idle_workers.h"
#include "server/sched/job_observer.h"
#include "server/sched/submit_policy.h"
#include "server/sched/worker_registry.h"
#include "server/store/job_files.h"
#include "server/store/job_store.h"

namespace ft::sched {

struct JobManagerOptions {
  std::string base_dir;  // relative dataset paths are resolved against it
  absl::Duration heartbeat_interval = absl::Seconds(1);
  absl::Duration lease_timeout = absl::Seconds(15);
  absl::Duration cancel_grace = absl::Seconds(4);  // then the worker is killed
  int max_queued_jobs = 10000;
  // A job whose worker dies or stops answering is re-queued (and resumes from its newest
  // checkpoint) until it has run this many attempts; then it fails with the last reason.
  uint32_t max_attempts = 3;
  // A worker that asked for work within this window counts as idle when a gang is formed.
  // Idle workers ask every 250 ms by default (ftworker --idle-poll-ms).
  absl::Duration idle_worker_window = absl::Seconds(2);
  // Admission limits (submit_policy.h): data roots, dataset size, sequence length, queue per user.
  SubmitLimits limits;
};

struct Lease {
  std::string lease_id;
  ft::v1::Job job;
  // Data parallel: this lease's rank in the gang, the gang's size and the attempt's rendezvous
  // key (c10d store prefix); world_size 1 and an empty key for a job of one worker.
  uint32_t rank = 0;
  uint32_t world_size = 1;
  std::string rendezvous_key;
};

// Where a gang's rank 0 serves the c10d store; port 0 until rank 0 has reported it.
struct StoreAddress {
  std::string host;
  uint32_t port = 0;
};

class JobManager {
 public:
  // `files` holds the jobs' folders and their event logs (the manager writes no files itself).
  // `observer` and `killer` may be null. Nothing is owned.
  static absl::StatusOr<std::unique_ptr<JobManager>> Create(JobManagerOptions options,
                                                            store::JobStore* store,
                                                            store::JobFiles* files, EventHub* hub,
                                                            Clock* clock, JobObserver* observer,
                                                            WorkerKiller* killer);

  // Re-queues jobs that were RUNNING when ftd stopped (attempt + 1, with an event saying why) and
  // ends jobs that were CANCELLING. Call once at start, before workers connect.
  absl::Status RecoverAfterRestart();

  // --- Public API ---
  // Applies defaults, validates, stores and queues. Retried calls with the same request_id return
  // the first job (created = false).
  // `owner` is stored with the job; request ids are unique per owner.
  absl::StatusOr<store::CreateJobResult> Submit(ft::v1::JobSpec spec, const std::string& request_id,
                                                const std::string& owner = "");
  absl::StatusOr<ft::v1::Job> Get(const std::string& job_id);
  // With `owner`, only that owner's jobs.
  absl::StatusOr<store::JobPage> List(const std::vector<ft::v1::JobState>& states, int page_size,
                                      const std::string& page_token,
                                      const std::optional<std::string>& owner = std::nullopt);
  // Removes an ended job's record, events and folder (store::JobFiles::RemoveFolder); returns
  // the bytes of the folder removed. FAILED_PRECONDITION for a job that has not ended.
  absl::StatusOr<uint64_t> Delete(const std::string& job_id, const std::string& why);
  // QUEUED: CANCELLED at once. RUNNING: CANCELLING until the worker stops. Ended jobs:
  // FAILED_PRECONDITION. A second cancel of a CANCELLING job returns it unchanged.
  absl::StatusOr<ft::v1::Job> Cancel(const std::string& job_id, const std::string& reason);

  // --- Worker API ---
  // The oldest queued job that can start (gang_plan.h), now RUNNING under a new lease, or the
  // lease of a gang rank reserved for this worker; nullopt when there is nothing to start.
  absl::StatusOr<std::optional<Lease>> Acquire(const std::string& worker_id);
  // Renews the lease. Answers whether the job should stop. FAILED_PRECONDITION for a lease that
  // is unknown or expired: the worker must abandon the job.
  absl::StatusOr<bool> Heartbeat(const std::string& lease_id, const std::string& job_id);
  // A gang's store address: rank 0 reports it (`reported.port` != 0) once its store listens;
  // every rank gets it back (port 0 until then, and for a job of one worker).
  absl::StatusOr<StoreAddress> Rendezvous(const std::string& lease_id, const std::string& job_id,
                                          const StoreAddress& reported);
  // Only rank 0's events enter the job's log; every rank's step times feed the metrics.
  absl::StatusOr<bool> Report(const std::string& lease_id, const std::string& job_id,
                              std::vector<ft::v1::JobEvent> events,
                              const std::vector<double>& step_seconds);
  absl::Status Complete(const std::string& lease_id, const std::string& job_id,
                        ft::v1::JobState final_state, const std::string& error);

  // A local worker process ended; its jobs fail (or end cancelled) with `description`.
  void OnWorkerExited(const std::string& worker_id, const std::string& description);

  // Expires silent leases and kills workers that ignore a cancel. Called periodically.
  void Tick();

  const JobManagerOptions& options() const { return options_; }
  absl::Duration heartbeat_interval() const { return options_.heartbeat_interval; }
  absl::Duration lease_timeout() const { return options_.lease_timeout; }
  int active_leases();
  // Seconds since each running job's worker last heartbeated or reported, by job id.
  std::map<std::string, double> LeaseHeartbeatAges();
  // Workers heard from: AcquireJob polls and lease heartbeats.
  WorkerRegistry& workers() { return workers_; }

 private:
  struct LeaseState {
    std::string job_id;
    std::string worker_id;
    uint32_t attempt = 1;
    absl::Time last_heartbeat;
    std::optional<absl::Time> cancel_requested_at;
    bool kill_sent = false;
    uint32_t rank = 0;
    uint32_t world_size = 1;
    std::string gang;       // the rendezvous key; empty for a job of one worker
    bool delivered = true;  // false while a gang rank's worker has not picked its lease up
  };

  JobManager(JobManagerOptions options, store::JobStore* store, store::JobFiles* files,
             EventHub* hub, Clock* clock, JobObserver* observer, WorkerKiller* killer);

  // Moves a job to `to` if it is in one of `from`, appending a state-change event. `extra` may
  // change other fields in the same transaction. FAILED_PRECONDITION if the state does not match.
  absl::StatusOr<ft::v1::Job> Transition(const std::string& job_id,
                                         const std::vector<ft::v1::JobState>& from,
                                         ft::v1::JobState to, const std::string& reason,
                                         const std::function<void(ft::v1::Job&)>& extra = {});
  // Stores and publishes events; tells the observer.
  void AfterChange(const ft::v1::Job& job, const std::vector<ft::v1::JobEvent>& events,
                   std::optional<ft::v1::JobState> from, const std::vector<double>& step_seconds);
  ft::v1::JobEvent NewEvent(uint32_t attempt);
  absl::StatusOr<LeaseState> FindLease(const std::string& lease_id, const std::string& job_id);
  void DropLease(const std::string& lease_id);
  // Removes a lease and, for a gang, every other rank's lease: the primary one first.
  std::vector<LeaseState> TakeLeaseLocked(const std::string& lease_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A gang rank reserved for `worker_id` when its gang formed, if any.
  std::optional<Lease> DeliverReserved(const std::string& worker_id);
  // Moves `job` to RUNNING on `workers` (by rank) and creates their leases.
  absl::StatusOr<Lease> StartJob(const ft::v1::Job& job, const std::vector<std::string>& workers)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(acquire_mu_);
  // Stores why a queued job waits (Job.waiting_reason) and logs it, when it changed.
  void SetWaitingReason(const std::string& job_id, const std::string& reason)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(acquire_mu_);
  // Appends an info line to a job's event log. `change` may alter the job in the same
  // transaction, or answer false to leave the job and its log as they are.
  void AppendLog(const std::string& job_id, const std::string& message,
                 const std::function<bool(ft::v1::Job&)>& change = {});
  // Text of a lost lease for events: "worker W" or "worker W (rank R of N)".
  static std::string Describe(const LeaseState& lease);
  // Ends the job of a lost lease: CANCELLING -> CANCELLED; RUNNING -> QUEUED (attempt + 1) while
  // the attempt budget lasts, else FAILED.
  void EndLostLease(const LeaseState& lease, const std::string& reason);
  void WriteEventLog(const ft::v1::Job& job);

  const JobManagerOptions options_;
  store::JobStore* const store_;
  store::JobFiles* const files_;
  EventHub* const hub_;
  Clock* const clock_;
  JobObserver* const observer_;
  WorkerKiller* const killer_;

  // One Acquire at a time, so two workers never race for a job; Cancel takes it too, so that it
  // sees a running job's lease.
  absl::Mutex acquire_mu_;
  absl::Mutex mu_;
  std::map<std::string, LeaseState> leases_ ABSL_GUARDED_BY(mu_);
  uint64_t next_lease_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<std::string, std::string> reserved_ ABSL_GUARDED_BY(mu_);  // worker id -> lease id
  std::map<std::string, StoreAddress> stores_ ABSL_GUARDED_BY(mu_);   // by rendezvous key
  IdleWorkers idle_ ABSL_GUARDED_BY(acquire_mu_);
  std::map<std::string, std::string> waiting_reasons_ ABSL_GUARDED_BY(acquire_mu_);  // by job
  WorkerRegistry workers_;
};

bool IsFinal(ft::v1::JobState state);

}  // namespace ft::sched
