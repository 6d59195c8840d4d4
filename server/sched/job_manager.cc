#include "server/sched/job_manager.h"

#include <algorithm>
#include <filesystem>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/spec/data_parallel_validation.h"
#include "common/spec/spec_defaults.h"
#include "common/spec/spec_validation.h"
#include "common/util/status_macros.h"
#include "common/util/time_util.h"
#include "server/sched/gang_plan.h"
#include "spdlog/spdlog.h"

namespace ft::sched {

using ft::v1::Job;
using ft::v1::JobEvent;
using ft::v1::JobState;

bool IsFinal(JobState state) {
  return state == ft::v1::SUCCEEDED || state == ft::v1::FAILED || state == ft::v1::CANCELLED;
}

absl::StatusOr<std::unique_ptr<JobManager>> JobManager::Create(
    JobManagerOptions options, store::JobStore* store, store::JobFiles* files, EventHub* hub,
    Clock* clock, JobObserver* observer, WorkerKiller* killer) {
  if (store == nullptr || files == nullptr) {
    return absl::InvalidArgumentError("job manager: a store and job files are required");
  }
  if (options.base_dir.empty()) options.base_dir = std::filesystem::current_path().string();
  return std::unique_ptr<JobManager>(
      new JobManager(std::move(options), store, files, hub, clock, observer, killer));
}

JobManager::JobManager(JobManagerOptions options, store::JobStore* store, store::JobFiles* files,
                       EventHub* hub, Clock* clock, JobObserver* observer, WorkerKiller* killer)
    : options_(std::move(options)),
      store_(store),
      files_(files),
      hub_(hub),
      clock_(clock),
      observer_(observer),
      killer_(killer),
      idle_(options_.idle_worker_window) {}

JobEvent JobManager::NewEvent(uint32_t attempt) {
  JobEvent event;
  *event.mutable_time() = ToProtoTime(clock_->Now());
  event.set_attempt(attempt);
  return event;
}

void JobManager::AfterChange(const Job& job, const std::vector<JobEvent>& events,
                             std::optional<JobState> from,
                             const std::vector<double>& step_seconds) {
  const bool ended = from && *from != job.state() && IsFinal(job.state());
  // The job folder's event log is complete before any watcher learns that the job ended.
  if (ended) WriteEventLog(job);
  hub_->Publish(job.id(), events);
  if (observer_ != nullptr) {
    if (!events.empty() || !step_seconds.empty()) observer_->OnJobEvents(job, events, step_seconds);
    if (from && *from != job.state()) observer_->OnJobStateChanged(job, *from);
  }
  if (ended) hub_->Forget(job.id());
}

absl::StatusOr<Job> JobManager::Transition(const std::string& job_id,
                                           const std::vector<JobState>& from, JobState to,
                                           const std::string& reason,
                                           const std::function<void(Job&)>& extra) {
  JobState previous = ft::v1::JOB_STATE_UNSPECIFIED;
  std::vector<JobEvent> events;
  FT_ASSIGN_OR_RETURN(Job job,
                      store_->UpdateJob(
                          job_id,
                          [&](Job& job, std::vector<JobEvent>& new_events) -> absl::Status {
                            previous = job.state();
                            if (std::find(from.begin(), from.end(), previous) == from.end()) {
                              return absl::FailedPreconditionError(
                                  absl::StrCat("job ", job_id, " is ", JobState_Name(previous)));
                            }
                            job.set_state(to);
                            if (extra) extra(job);
                            if (IsFinal(to)) *job.mutable_end_time() = ToProtoTime(clock_->Now());
                            JobEvent event = NewEvent(job.attempt());
                            event.mutable_state_change()->set_from(previous);
                            event.mutable_state_change()->set_to(to);
                            event.mutable_state_change()->set_reason(reason);
                            new_events.push_back(std::move(event));
                            return absl::OkStatus();
                          },
                          &events));
  spdlog::info("{} {} -> {}: {}", job_id, JobState_Name(previous), JobState_Name(to), reason);
  AfterChange(job, events, previous, {});
  return job;
}

absl::Status JobManager::RecoverAfterRestart() {
  FT_ASSIGN_OR_RETURN(std::vector<Job> jobs,
                      store_->JobsInStates({ft::v1::RUNNING, ft::v1::CANCELLING}, INT32_MAX));
  for (const Job& job : jobs) {
    absl::StatusOr<Job> result;
    if (job.state() == ft::v1::CANCELLING) {
      result = Transition(job.id(), {ft::v1::CANCELLING}, ft::v1::CANCELLED,
                          "ftd restarted while the job was being cancelled");
    } else {
      result = Transition(
          job.id(), {ft::v1::RUNNING}, ft::v1::QUEUED,
          absl::StrCat("ftd restarted while attempt ", job.attempt(), " was running on worker ",
                       job.worker_id(), "; re-queued as attempt ", job.attempt() + 1),
          [](Job& j) {
            j.set_attempt(j.attempt() + 1);
            j.clear_worker_id();
          });
    }
    if (!result.ok()) return result.status();
  }
  return absl::OkStatus();
}

absl::StatusOr<store::CreateJobResult> JobManager::Submit(ft::v1::JobSpec spec,
                                                          const std::string& request_id,
                                                          const std::string& owner) {
  if (request_id.size() > 256) {
    return absl::InvalidArgumentError("request_id: at most 256 bytes");
  }
  spec = spec::WithDefaults(std::move(spec), options_.base_dir);
  // Before validation reads any file: paths outside the data roots are never opened.
  FT_RETURN_IF_ERROR(ApplySubmitLimits(options_.limits, spec));
  FT_RETURN_IF_ERROR(spec::ValidateSpec(spec));
  // Only the queued ones: counting every state scans every job ever kept.
  FT_ASSIGN_OR_RETURN(const int64_t queued, store_->CountJobs(ft::v1::QUEUED));
  FT_ASSIGN_OR_RETURN(const int64_t queued_by_owner, store_->CountJobs(ft::v1::QUEUED, owner));
  // Checked only when a job is about to be created (init runs only then), so that a retry whose
  // first attempt filled the queue still gets its job back.
  const bool queue_full = queued >= options_.max_queued_jobs;
  const bool user_queue_full = !owner.empty() && options_.limits.max_queued_jobs_per_user > 0 &&
                               queued_by_owner >= options_.limits.max_queued_jobs_per_user;
  const store::RequestKey key(owner, request_id);
  FT_ASSIGN_OR_RETURN(
      store::CreateJobResult result,
      store_->CreateJob(key, [&](Job& job, std::vector<JobEvent>& events) -> absl::Status {
        if (queue_full) {
          return absl::ResourceExhaustedError(absl::StrCat(
              "the queue is full (", options_.max_queued_jobs, " jobs waiting); retry later"));
        }
        if (user_queue_full) {
          return absl::ResourceExhaustedError(
              absl::StrCat("--max-queued-jobs-per-user: ", owner, " already has ",
                           queued_by_owner, " queued jobs (limit ",
                           options_.limits.max_queued_jobs_per_user, "); retry later"));
        }
        *job.mutable_spec() = spec;
        job.set_state(ft::v1::QUEUED);
        job.set_attempt(1);
        *job.mutable_create_time() = ToProtoTime(clock_->Now());
        job.set_output_dir(files_->FolderFor(job.id()));
        JobEvent event = NewEvent(1);
        event.mutable_state_change()->set_from(ft::v1::JOB_STATE_UNSPECIFIED);
        event.mutable_state_change()->set_to(ft::v1::QUEUED);
        event.mutable_state_change()->set_reason("submitted");
        events.push_back(std::move(event));
        return absl::OkStatus();
      }));
  if (result.created) {
    spdlog::info("{} submitted: model {}, train {}, micro-batch {} x {} steps", result.job.id(),
                 spec.model(), spec.dataset().train(), spec.micro_batch_size(),
                 spec.accumulation_steps());
    hub_->Publish(result.job.id(), result.events);
    if (observer_ != nullptr) observer_->OnJobSubmitted(result.job);
  }
  return result;
}

absl::StatusOr<Job> JobManager::Get(const std::string& job_id) { return store_->GetJob(job_id); }

absl::StatusOr<store::JobPage> JobManager::List(const std::vector<JobState>& states, int page_size,
                                                const std::string& page_token,
                                                const std::optional<std::string>& owner) {
  if (page_size < 0 || page_size > 1000) {
    return absl::InvalidArgumentError(absl::StrCat("page_size: must be 0..1000, got ", page_size));
  }
  for (const JobState state : states) {
    if (!ft::v1::JobState_IsValid(state) || state == ft::v1::JOB_STATE_UNSPECIFIED) {
      return absl::InvalidArgumentError(
          absl::StrCat("states: unknown job state ", static_cast<int>(state)));
    }
  }
  return store_->ListJobs(states, page_size == 0 ? 100 : page_size, page_token, owner);
}

absl::StatusOr<uint64_t> JobManager::Delete(const std::string& job_id, const std::string& why) {
  FT_ASSIGN_OR_RETURN(Job job, store_->DeleteJob(job_id, [&](const Job& j) -> absl::Status {
    if (!IsFinal(j.state())) {
      return absl::FailedPreconditionError(
          absl::StrCat("job ", job_id, " is ", JobState_Name(j.state()),
                       "; only ended jobs can be deleted (cancel it first)"));
    }
    return absl::OkStatus();
  }));
  hub_->Forget(job_id);
  const uint64_t freed = files_->RemoveFolder(job);
  spdlog::info("{} deleted ({}), {} bytes freed", job_id, why, freed);
  return freed;
}

absl::StatusOr<Job> JobManager::Cancel(const std::string& job_id, const std::string& reason) {
  const std::string why = reason.empty() ? "cancelled by request" : reason;
  // Not between an Acquire's RUNNING transition and its lease: the cancel would find no lease to
  // flag and the worker would never hear of it.
  absl::MutexLock acquire_lock(&acquire_mu_);
  FT_ASSIGN_OR_RETURN(Job job, store_->GetJob(job_id));
  if (IsFinal(job.state())) {
    return absl::FailedPreconditionError(
        absl::StrCat("job ", job_id, " has already ended (", JobState_Name(job.state()), ")"));
  }
  if (job.state() == ft::v1::CANCELLING) return job;
  absl::StatusOr<Job> result = Transition(job_id, {ft::v1::QUEUED}, ft::v1::CANCELLED, why,
                                          [&](Job& j) { j.set_error(why); });
  if (result.ok() || !absl::IsFailedPrecondition(result.status())) return result;
  // Not queued any more: a worker holds it.
  result = Transition(job_id, {ft::v1::RUNNING}, ft::v1::CANCELLING, why,
                      [&](Job& j) { j.set_error(why); });
  if (!result.ok()) {
    // It ended meanwhile, or was already CANCELLING.
    FT_ASSIGN_OR_RETURN(Job now, store_->GetJob(job_id));
    if (now.state() == ft::v1::CANCELLING) return now;
    return absl::FailedPreconditionError(
        absl::StrCat("job ", job_id, " has already ended (", JobState_Name(now.state()), ")"));
  }
  absl::MutexLock lock(&mu_);
  for (auto& [id, lease] : leases_) {
    if (lease.job_id == job_id && !lease.cancel_requested_at) {
      lease.cancel_requested_at = clock_->Now();
    }
  }
  return result;
}

// How many queued jobs one Acquire looks at: those that cannot start (a gang bigger than the
// workers ftd has) are passed over, up to this many.
constexpr size_t kPlanDepth = 64;

absl::StatusOr<std::optional<Lease>> JobManager::Acquire(const std::string& worker_id) {
  if (worker_id.empty()) return absl::InvalidArgumentError("worker_id: required");
  const absl::Time now = clock_->Now();
  workers_.Seen(worker_id, now);
  absl::MutexLock acquire_lock(&acquire_mu_);
  if (std::optional<Lease> reserved = DeliverReserved(worker_id)) return reserved;
  // A job of one worker at the head decides alone (the common case, one row read per poll); the
  // queue is read deeper only when a gang heads it.
  size_t depth = 1;
  FT_ASSIGN_OR_RETURN(std::vector<Job> queued, store_->JobsInStates({ft::v1::QUEUED}, 1));
  if (!queued.empty() && spec::WorldSize(queued.front().spec()) > 1) {
    depth = kPlanDepth;
    FT_ASSIGN_OR_RETURN(queued,
                        store_->JobsInStates({ft::v1::QUEUED}, static_cast<int>(kPlanDepth)));
  }
  std::vector<QueuedJobView> views;
  views.reserve(queued.size());
  for (const Job& job : queued) views.push_back({job.id(), spec::WorldSize(job.spec())});
  const GangPlan plan = PlanNextStart(views, worker_id, idle_.Others(worker_id, now),
                                      workers_.Connected(now, options_.lease_timeout));
  for (const auto& [job_id, reason] : plan.waiting) SetWaitingReason(job_id, reason);
  if (queued.size() < depth) {
    // The whole queue was read: reasons of jobs that left it otherwise (cancelled, deleted) are
    // forgotten here.
    for (auto it = waiting_reasons_.begin(); it != waiting_reasons_.end();) {
      const bool queued_now = std::any_of(views.begin(), views.end(), [&](const QueuedJobView& v) {
        return v.job_id == it->first;
      });
      it = queued_now ? std::next(it) : waiting_reasons_.erase(it);
    }
  }
  if (!plan.start) {
    idle_.Asked(worker_id, now);
    return std::optional<Lease>();
  }
  for (const std::string& worker : plan.workers) idle_.Busy(worker);
  FT_ASSIGN_OR_RETURN(Lease lease, StartJob(queued[*plan.start], plan.workers));
  return std::optional<Lease>(std::move(lease));
}

absl::StatusOr<Lease> JobManager::StartJob(const Job& queued,
                                           const std::vector<std::string>& workers) {
  const auto world_size = static_cast<uint32_t>(workers.size());
  std::string reason =
      absl::StrCat("attempt ", queued.attempt(), " started on worker ", workers.front());
  std::string key;
  if (world_size > 1) {
    // Unique per attempt, so that a re-formed gang never meets a stale store key.
    key = absl::StrFormat("%s-attempt%d-%08x", queued.id(), queued.attempt(),
                          absl::Uniform<uint32_t>(absl::BitGen()));
    std::vector<std::string> ranks;
    for (uint32_t rank = 0; rank < world_size; ++rank) {
      ranks.push_back(absl::StrCat(workers[rank], " (rank ", rank, ")"));
    }
    reason = absl::StrCat("attempt ", queued.attempt(), " started on ", world_size,
                          " workers: ", absl::StrJoin(ranks, ", "), "; rendezvous key ", key);
  }
  FT_ASSIGN_OR_RETURN(
      Job job, Transition(queued.id(), {ft::v1::QUEUED}, ft::v1::RUNNING, reason, [&](Job& j) {
        j.set_worker_id(workers.front());
        j.clear_error();
        j.clear_waiting_reason();
        *j.mutable_start_time() = ToProtoTime(clock_->Now());
      }));
  waiting_reasons_.erase(job.id());
  Lease lease;
  lease.job = job;
  lease.world_size = world_size;
  lease.rendezvous_key = key;
  absl::MutexLock lock(&mu_);
  for (uint32_t rank = 0; rank < world_size; ++rank) {
    const std::string lease_id =
        absl::StrFormat("lease-%d-%016x", next_lease_++, absl::Uniform<uint64_t>(absl::BitGen()));
    LeaseState state;
    state.job_id = job.id();
    state.worker_id = workers[rank];
    state.attempt = job.attempt();
    state.last_heartbeat = clock_->Now();
    state.rank = rank;
    state.world_size = world_size;
    state.gang = key;
    // The other ranks' workers pick their leases up on their next AcquireJob; until then the
    // lease timeout runs for them as for a silent worker.
    state.delivered = rank == 0;
    if (rank == 0) {
      lease.lease_id = lease_id;
    } else {
      reserved_[workers[rank]] = lease_id;
    }
    leases_[lease_id] = std::move(state);
  }
  return lease;
}

std::optional<Lease> JobManager::DeliverReserved(const std::string& worker_id) {
  Lease lease;
  std::string job_id;
  {
    absl::MutexLock lock(&mu_);
    auto reserved = reserved_.find(worker_id);
    if (reserved == reserved_.end()) return std::nullopt;
    lease.lease_id = reserved->second;
    reserved_.erase(reserved);
    auto it = leases_.find(lease.lease_id);
    if (it == leases_.end()) return std::nullopt;
    LeaseState& state = it->second;
    state.delivered = true;
    state.last_heartbeat = clock_->Now();
    job_id = state.job_id;
    lease.rank = state.rank;
    lease.world_size = state.world_size;
    lease.rendezvous_key = state.gang;
  }
  absl::StatusOr<Job> job = store_->GetJob(job_id);
  if (!job.ok()) return std::nullopt;  // deleted meanwhile; the lease expires
  lease.job = *std::move(job);
  return lease;
}

void JobManager::SetWaitingReason(const std::string& job_id, const std::string& reason) {
  std::string& known = waiting_reasons_[job_id];
  if (known == reason) return;
  known = reason;
  AppendLog(job_id, reason, [&](Job& j) {
    if (j.state() != ft::v1::QUEUED || j.waiting_reason() == reason) return false;
    j.set_waiting_reason(reason);
    return true;
  });
}

void JobManager::AppendLog(const std::string& job_id, const std::string& message,
                           const std::function<bool(Job&)>& change) {
  std::vector<JobEvent> events;
  absl::StatusOr<Job> job = store_->UpdateJob(
      job_id,
      [&](Job& j, std::vector<JobEvent>& new_events) -> absl::Status {
        if (change && !change(j)) return absl::FailedPreconditionError("nothing to log");
        JobEvent event = NewEvent(j.attempt());
        event.mutable_log()->set_level("info");
        event.mutable_log()->set_message(message);
        new_events.push_back(std::move(event));
        return absl::OkStatus();
      },
      &events);
  if (job.ok()) AfterChange(*job, events, std::nullopt, {});
}

absl::StatusOr<JobManager::LeaseState> JobManager::FindLease(const std::string& lease_id,
                                                             const std::string& job_id) {
  absl::MutexLock lock(&mu_);
  auto it = leases_.find(lease_id);
  if (it == leases_.end() || it->second.job_id != job_id) {
    return absl::FailedPreconditionError(absl::StrCat("lease ", lease_id, " for ", job_id,
                                                      " is unknown or expired; abandon the job"));
  }
  it->second.last_heartbeat = clock_->Now();
  workers_.Seen(it->second.worker_id, it->second.last_heartbeat);
  return it->second;
}

void JobManager::DropLease(const std::string& lease_id) {
  absl::MutexLock lock(&mu_);
  leases_.erase(lease_id);
}

std::vector<JobManager::LeaseState> JobManager::TakeLeaseLocked(const std::string& lease_id) {
  std::vector<LeaseState> taken;
  auto it = leases_.find(lease_id);
  if (it == leases_.end()) return taken;
  taken.push_back(std::move(it->second));
  leases_.erase(it);
  const std::string gang = taken.front().gang;
  if (gang.empty()) return taken;
  for (auto other = leases_.begin(); other != leases_.end();) {
    if (other->second.gang == gang) {
      taken.push_back(std::move(other->second));
      other = leases_.erase(other);
    } else {
      ++other;
    }
  }
  for (const LeaseState& lease : taken) {
    auto reserved = reserved_.find(lease.worker_id);
    if (!lease.delivered && reserved != reserved_.end()) reserved_.erase(reserved);
  }
  stores_.erase(gang);
  return taken;
}

std::string JobManager::Describe(const LeaseState& lease) {
  if (lease.world_size <= 1) return absl::StrCat("worker ", lease.worker_id);
  return absl::StrCat("worker ", lease.worker_id, " (rank ", lease.rank, " of ", lease.world_size,
                      ")");
}

absl::StatusOr<StoreAddress> JobManager::Rendezvous(const std::string& lease_id,
                                                    const std::string& job_id,
                                                    const StoreAddress& reported) {
  FT_ASSIGN_OR_RETURN(LeaseState lease, FindLease(lease_id, job_id));
  if (lease.world_size <= 1) return StoreAddress();
  if (reported.port != 0 && lease.rank != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "store_port: only rank 0 hosts the rendezvous store; this lease is rank ", lease.rank));
  }
  if (reported.port > 65535 || (reported.port != 0 && reported.host.empty())) {
    return absl::InvalidArgumentError(absl::StrCat("store_host/store_port: not an address: '",
                                                   reported.host, ":", reported.port, "'"));
  }
  bool announced = false;
  StoreAddress address;
  {
    absl::MutexLock lock(&mu_);
    StoreAddress& known = stores_[lease.gang];
    if (reported.port != 0 && (known.port != reported.port || known.host != reported.host)) {
      known = reported;
      announced = true;
    }
    address = known;
  }
  if (announced) {
    AppendLog(job_id, absl::StrCat("rank 0 (worker ", lease.worker_id,
                                   ") serves the rendezvous at ", address.host, ":", address.port));
  }
  return address;
}

absl::StatusOr<bool> JobManager::Heartbeat(const std::string& lease_id, const std::string& job_id) {
  FT_ASSIGN_OR_RETURN(LeaseState lease, FindLease(lease_id, job_id));
  return lease.cancel_requested_at.has_value();
}

absl::StatusOr<bool> JobManager::Report(const std::string& lease_id, const std::string& job_id,
                                        std::vector<JobEvent> events,
                                        const std::vector<double>& step_seconds) {
  FT_ASSIGN_OR_RETURN(LeaseState lease, FindLease(lease_id, job_id));
  if (lease.world_size > 1 && observer_ != nullptr) {
    for (const JobEvent& event : events) {
      if (event.has_progress()) observer_->OnRankProgress(job_id, lease.rank, event.progress());
    }
  }
  if (lease.rank != 0) {
    // The ranks train the same steps: rank 0 speaks for the gang in the job's log.
    if (observer_ != nullptr && !step_seconds.empty()) {
      FT_ASSIGN_OR_RETURN(Job job, store_->GetJob(job_id));
      observer_->OnJobEvents(job, {}, step_seconds);
    }
    return lease.cancel_requested_at.has_value();
  }
  std::vector<JobEvent> stored;
  FT_ASSIGN_OR_RETURN(
      Job job, store_->UpdateJob(
                   job_id,
                   [&](Job& job, std::vector<JobEvent>& new_events) -> absl::Status {
                     if (job.state() != ft::v1::RUNNING && job.state() != ft::v1::CANCELLING) {
                       return absl::FailedPreconditionError(
                           absl::StrCat("job ", job_id, " is ", JobState_Name(job.state())));
                     }
                     for (JobEvent& event : events) {
                       if (event.kind_case() == JobEvent::kStateChange ||
                           event.kind_case() == JobEvent::KIND_NOT_SET) {
                         return absl::InvalidArgumentError(
                             "events: workers report progress, evaluations and log lines only");
                       }
                       JobEvent e = NewEvent(job.attempt());
                       if (event.has_time()) *e.mutable_time() = event.time();
                       switch (event.kind_case()) {
                         case JobEvent::kProgress:
                           *e.mutable_progress() = event.progress();
                           *job.mutable_progress() = event.progress();
                           break;
                         case JobEvent::kEvaluation: {
                           *e.mutable_evaluation() = event.evaluation();
                           bool replaced = false;
                           for (auto& evaluation : *job.mutable_evaluations()) {
                             if (evaluation.split() == event.evaluation().split()) {
                               evaluation = event.evaluation();
                               replaced = true;
                             }
                           }
                           if (!replaced) *job.add_evaluations() = event.evaluation();
                           break;
                         }
                         case JobEvent::kCheckpointSaved:
                           *e.mutable_checkpoint_saved() = event.checkpoint_saved();
                           break;
                         default:
                           *e.mutable_log() = event.log();
                           break;
                       }
                       new_events.push_back(std::move(e));
                     }
                     return absl::OkStatus();
                   },
                   &stored));
  AfterChange(job, stored, std::nullopt, step_seconds);
  return lease.cancel_requested_at.has_value();
}

absl::Status JobManager::Complete(const std::string& lease_id, const std::string& job_id,
                                  JobState final_state, const std::string& error) {
  if (!IsFinal(final_state)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "final_state: must be SUCCEEDED, FAILED or CANCELLED, got ", JobState_Name(final_state)));
  }
  FT_ASSIGN_OR_RETURN(LeaseState lease, FindLease(lease_id, job_id));
  if (lease.world_size > 1) {
    if (lease.rank != 0 && final_state != ft::v1::FAILED) {
      // Rank 0 reports the gang's outcome.
      DropLease(lease_id);
      return absl::OkStatus();
    }
    {
      absl::MutexLock lock(&mu_);
      TakeLeaseLocked(lease_id);
    }
    if (final_state == ft::v1::FAILED) {
      // A rank fails as often because another rank died (its collective broke) as for a reason
      // of its own: the attempt ends for the gang, and it runs again while attempts last.
      EndLostLease(lease, absl::StrCat(Describe(lease), " failed: ", error));
      return absl::OkStatus();
    }
  } else {
    DropLease(lease_id);
  }
  std::string reason;
  switch (final_state) {
    case ft::v1::SUCCEEDED:
      reason = "training finished";
      break;
    case ft::v1::CANCELLED:
      reason = "the worker stopped the job";
      break;
    default:
      reason = absl::StrCat("training failed: ", error);
  }
  absl::StatusOr<Job> job =
      Transition(job_id, {ft::v1::RUNNING, ft::v1::CANCELLING}, final_state, reason, [&](Job& j) {
        if (final_state == ft::v1::FAILED) j.set_error(error);
        if (final_state == ft::v1::SUCCEEDED) j.clear_error();
      });
  return job.status();
}

void JobManager::EndLostLease(const LeaseState& lease, const std::string& why) {
  const std::string reason = lease.world_size > 1
                                 ? absl::StrCat(why, "; attempt ", lease.attempt, " ends for all ",
                                                lease.world_size, " ranks")
                                 : why;
  absl::StatusOr<Job> result =
      Transition(lease.job_id, {ft::v1::CANCELLING}, ft::v1::CANCELLED, reason);
  if (result.ok()) return;
  if (lease.attempt < options_.max_attempts) {
    result = Transition(lease.job_id, {ft::v1::RUNNING}, ft::v1::QUEUED,
                        absl::StrCat(reason, "; re-queued"), [](Job& j) {
                          j.set_attempt(j.attempt() + 1);
                          j.clear_worker_id();
                        });
  } else {
    const std::string gave_up =
        absl::StrCat(reason, "; gave up after ", lease.attempt, " attempts (--max-job-attempts)");
    result = Transition(lease.job_id, {ft::v1::RUNNING}, ft::v1::FAILED, gave_up,
                        [&](Job& j) { j.set_error(gave_up); });
  }
  if (!result.ok() && !absl::IsFailedPrecondition(result.status())) {
    spdlog::error("{}: could not end lost lease: {}", lease.job_id, result.status().ToString());
  }
}

void JobManager::OnWorkerExited(const std::string& worker_id, const std::string& description) {
  std::vector<LeaseState> lost;
  {
    absl::MutexLock lock(&mu_);
    std::vector<std::string> ids;
    for (const auto& [id, lease] : leases_) {
      if (lease.worker_id == worker_id) ids.push_back(id);
    }
    for (const std::string& id : ids) {
      std::vector<LeaseState> taken = TakeLeaseLocked(id);
      if (!taken.empty()) lost.push_back(taken.front());
    }
  }
  for (const LeaseState& lease : lost) {
    EndLostLease(lease, absl::StrCat(Describe(lease), " ", description));
  }
}

void JobManager::Tick() {
  const absl::Time now = clock_->Now();
  std::vector<LeaseState> expired;
  std::vector<std::string> to_kill;
  {
    absl::MutexLock lock(&mu_);
    std::vector<std::string> expired_ids;
    for (auto& [id, lease] : leases_) {
      if (now - lease.last_heartbeat > options_.lease_timeout) {
        expired_ids.push_back(id);
        continue;
      }
      if (lease.cancel_requested_at && !lease.kill_sent &&
          now - *lease.cancel_requested_at > options_.cancel_grace) {
        lease.kill_sent = true;
        to_kill.push_back(lease.worker_id);
      }
    }
    for (const std::string& id : expired_ids) {
      // A gang's first expired lease takes its siblings along.
      std::vector<LeaseState> taken = TakeLeaseLocked(id);
      if (!taken.empty()) expired.push_back(taken.front());
    }
  }
  for (const LeaseState& lease : expired) {
    const std::string silent = absl::FormatDuration(now - lease.last_heartbeat);
    EndLostLease(
        lease,
        lease.delivered
            ? absl::StrCat("lease of ", Describe(lease), " expired (no heartbeat for ", silent, ")")
            : absl::StrCat(Describe(lease), " did not pick up its lease within ", silent));
  }
  for (const std::string& worker_id : to_kill) {
    if (killer_ != nullptr && killer_->KillWorker(worker_id)) {
      spdlog::warn("worker {} ignored a cancel for {}; killed it", worker_id,
                   absl::FormatDuration(options_.cancel_grace));
    }
  }
}

int JobManager::active_leases() {
  absl::MutexLock lock(&mu_);
  return static_cast<int>(leases_.size());
}

std::map<std::string, double> JobManager::LeaseHeartbeatAges() {
  const absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  std::map<std::string, double> ages;
  for (const auto& [lease_id, lease] : leases_) {
    ages[lease.job_id] = absl::ToDoubleSeconds(now - lease.last_heartbeat);
  }
  return ages;
}

void JobManager::WriteEventLog(const Job& job) {
  // The job folder gets the full event log once the job has ended. The log stays in the store
  // either way, so a failure here costs only the offline copy.
  absl::StatusOr<std::vector<JobEvent>> events = store_->ReadEvents(job.id(), 0, INT32_MAX);
  if (!events.ok()) return;
  if (absl::Status status = files_->WriteEventLog(job, *events); !status.ok()) {
    spdlog::warn("{}: event log not written: {}", job.id(), std::string(status.message()));
  }
}

}  // namespace ft::sched
