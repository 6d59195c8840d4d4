// Durable jobs and their event logs in SQLite. Knows nothing of the state machine: callers
// mutate a job and append events inside one transaction, and the store assigns event sequence
// numbers. Thread-safe. A write returns once it is durable (group commit, wal_sync.h). Events are
// returned only once durable (ReadEvents waits for a pending sync); a job read may already show a
// change whose writer is still waiting for its sync.
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
#include "ft/v1/event.pb.h"
#include "ft/v1/job.pb.h"
#include "server/store/event_tap.h"
#include "server/store/sqlite_db.h"
#include "server/store/wal_checkpointer.h"
#include "server/store/wal_sync.h"

namespace ft::store {

// Changes a job in place and may append events (their job_id and seq are assigned by the store).
// Returning an error rolls the whole change back.
using JobMutation =
    std::function<absl::Status(ft::v1::Job& job, std::vector<ft::v1::JobEvent>& new_events)>;

struct CreateJobResult {
  ft::v1::Job job;
  std::vector<ft::v1::JobEvent> events;  // as stored
  bool created = false;                  // false: request_id matched an existing job
};

// The idempotency key of a submission: request ids are unique per owner. A bare request id is
// an owner-less one (jobs from before owners existed, or from ftd without authentication).
struct RequestKey {
  RequestKey(const std::string& id) : request_id(id) {}  // NOLINT(google-explicit-constructor)
  RequestKey(const char* id) : request_id(id) {}         // NOLINT(google-explicit-constructor)
  RequestKey(std::string who, std::string id) : owner(std::move(who)), request_id(std::move(id)) {}
  std::string owner;
  std::string request_id;
};

struct JobPage {
  std::vector<ft::v1::Job> jobs;
  std::string next_page_token;
};

class JobStore {
 public:
  // Opens or creates `path`, migrating older schemas. `tap` (not owned, may be null) sees every
  // appended event inside its transaction.
  static absl::StatusOr<std::unique_ptr<JobStore>> Open(const std::string& path,
                                                        EventTap* tap = nullptr);

  // Creates a job with a fresh id ("job-N") and lets `init` fill it. When the key's request_id is
  // not empty and a job of the same owner already carries it, returns that job unchanged
  // (created = false). The job's owner field is set to the key's owner.
  absl::StatusOr<CreateJobResult> CreateJob(const RequestKey& key, const JobMutation& init);

  // Reads, mutates and writes back one job atomically. NOT_FOUND for an unknown id.
  absl::StatusOr<ft::v1::Job> UpdateJob(const std::string& job_id, const JobMutation& mutate,
                                        std::vector<ft::v1::JobEvent>* stored_events = nullptr);

  absl::StatusOr<ft::v1::Job> GetJob(const std::string& job_id);

  // Newest first. `page_token` is opaque (from a previous page); INVALID_ARGUMENT when malformed.
  // With `owner`, only that owner's jobs.
  absl::StatusOr<JobPage> ListJobs(const std::vector<ft::v1::JobState>& states, int page_size,
                                   const std::string& page_token,
                                   const std::optional<std::string>& owner = std::nullopt);

  // Jobs of `owner` in `state`.
  absl::StatusOr<int64_t> CountJobs(ft::v1::JobState state, const std::string& owner);
  // Jobs in `state`, of every owner.
  absl::StatusOr<int64_t> CountJobs(ft::v1::JobState state);

  // Removes a job and its events after `check` (run in the same transaction) accepts it; returns
  // the removed job. NOT_FOUND for an unknown id.
  absl::StatusOr<ft::v1::Job> DeleteJob(
      const std::string& job_id, const std::function<absl::Status(const ft::v1::Job&)>& check);

  // Jobs in one of `states`, oldest first (queue order).
  absl::StatusOr<std::vector<ft::v1::Job>> JobsInStates(const std::vector<ft::v1::JobState>& states,
                                                        int limit);

  // Events with seq > after_seq, in order, at most `limit`.
  absl::StatusOr<std::vector<ft::v1::JobEvent>> ReadEvents(const std::string& job_id,
                                                           uint64_t after_seq, int limit);

  absl::StatusOr<std::map<ft::v1::JobState, int64_t>> CountByState();

  // Runs `body` in one transaction on the store's connection, for tables kept beside the jobs
  // (the webhook outbox). Does not wait for durability: a later durable write or checkpoint
  // covers it, which suits rows whose loss at a power cut only repeats work.
  absl::Status WithDatabase(const std::function<absl::Status(SqliteDb& db)>& body)
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  JobStore(std::unique_ptr<SqliteDb> db, const std::string& path, EventTap* tap)
      : db_(std::move(db)), wal_(path + "-wal"), tap_(tap) {}
  static constexpr absl::Duration kCheckpointInterval = absl::Milliseconds(250);
  absl::StatusOr<std::optional<ft::v1::Job>> LoadLocked(const std::string& column,
                                                        const std::string& value)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status SaveLocked(const ft::v1::Job& job) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The job, or NOT_FOUND.
  absl::StatusOr<ft::v1::Job> LoadExistingLocked(const std::string& job_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs `body` in one transaction under mu_, then waits (without mu_) until it is durable. The
  // bodies are lambdas annotated ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_), so that clang's thread
  // safety analysis (scripts/thread_safety.sh) checks what they touch.
  absl::Status WriteDurably(const std::function<absl::Status()>& body) ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status AppendEventsLocked(ft::v1::Job& job, std::vector<ft::v1::JobEvent>& events)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  absl::Mutex mu_;
  std::unique_ptr<SqliteDb> db_ ABSL_GUARDED_BY(mu_);
  WalSync wal_;
  EventTap* const tap_;
  // After db_: stopped (and its connection closed) before db_ closes.
  std::unique_ptr<WalCheckpointer> checkpointer_;
};

}  // namespace ft::store
