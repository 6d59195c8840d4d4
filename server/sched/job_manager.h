// The job state machine, queue and worker leases: everything ftd decides about jobs, with no gRPC
// types, so that it is tested directly. States and transitions:
//
//   QUEUED -> RUNNING -> SUCCEEDED | FAILED | CANCELLED
//   QUEUED -> CANCELLED                      (cancel before a worker took it)
//   RUNNING -> CANCELLING -> CANCELLED        (the worker stops, or is killed after a grace period)
//   RUNNING -> QUEUED, attempt + 1            (lease lost: ftd restarted, worker died or went
//                                             silent; FAILED once max_attempts have run)
//
// Every transition and every report is an event in the job's log, stored before it is published.
#pragma once

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
  // Admission limits (submit_policy.h): data roots, dataset size, sequence length, queue per user.
  SubmitLimits limits;
};

struct Lease {
  std::string lease_id;
  ft::v1::Job job;
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
  // The oldest queued job, now RUNNING under a new lease; nullopt when the queue is empty.
  absl::StatusOr<std::optional<Lease>> Acquire(const std::string& worker_id);
  // Renews the lease. Answers whether the job should stop. FAILED_PRECONDITION for a lease that
  // is unknown or expired: the worker must abandon the job.
  absl::StatusOr<bool> Heartbeat(const std::string& lease_id, const std::string& job_id);
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
  WorkerRegistry workers_;
};

bool IsFinal(ft::v1::JobState state);

}  // namespace ft::sched
