#include "server/store/job_store.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/util/status_macros.h"

namespace ft::store {
namespace {

// Schema migrations: entry i takes the schema from version i to i+1. Never edit a shipped entry;
// append a new one.
const std::vector<std::string>& Migrations() {
  static const std::vector<std::string> migrations = {
      // v1: jobs keyed by creation order (also the queue order); the full Job as a protobuf
      // blob, with the columns queries need beside it. Events keyed by (job, seq).
      R"sql(
        CREATE TABLE jobs (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          id TEXT NOT NULL UNIQUE,
          request_id TEXT UNIQUE,
          state INTEGER NOT NULL,
          job BLOB NOT NULL
        );
        CREATE INDEX jobs_by_state ON jobs(state, seq);
        CREATE TABLE events (
          job_id TEXT NOT NULL,
          seq INTEGER NOT NULL,
          event BLOB NOT NULL,
          PRIMARY KEY (job_id, seq)
        ) WITHOUT ROWID;
      )sql",
      // v2: the owner of each job (the user whose token submitted it; '' without auth), for
      // per-user listing and queue limits. request_id is unique per owner: the column holds
      // "owner\nrequest_id" for owned jobs (see KeyColumn).
      R"sql(
        ALTER TABLE jobs ADD COLUMN owner TEXT NOT NULL DEFAULT '';
        CREATE INDEX jobs_by_owner ON jobs(owner, state, seq);
      )sql",
      // v3: the webhook outbox (server/notify/outbox.h): one row per (event, URL) until it is
      // delivered or given up; written in the transaction that appends the event.
      R"sql(
        CREATE TABLE webhook_outbox (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          delivery_id TEXT NOT NULL UNIQUE,
          url TEXT NOT NULL,
          operator_url INTEGER NOT NULL,
          event_type TEXT NOT NULL,
          job_id TEXT NOT NULL,
          body TEXT NOT NULL,
          created_ms INTEGER NOT NULL,
          attempts INTEGER NOT NULL DEFAULT 0,
          next_attempt_ms INTEGER NOT NULL,
          last_error TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX webhook_outbox_due ON webhook_outbox(next_attempt_ms);
      )sql",
  };
  return migrations;
}

std::string StatesClause(const std::vector<ft::v1::JobState>& states) {
  if (states.empty()) return "1";
  std::vector<int> values(states.begin(), states.end());
  return absl::StrCat("state IN (", absl::StrJoin(values, ","), ")");
}

// Jobs without an owner keep the bare request_id, as before owners existed. Owner names come from
// the token file's lines, so they never hold a line break.
std::string KeyColumn(const std::string& owner, const std::string& request_id) {
  return owner.empty() ? request_id : absl::StrCat(owner, "\n", request_id);
}

absl::StatusOr<ft::v1::Job> ParseJob(const std::string& bytes) {
  ft::v1::Job job;
  if (!job.ParseFromString(bytes)) return absl::DataLossError("stored job does not parse");
  return job;
}

}  // namespace

absl::StatusOr<std::unique_ptr<JobStore>> JobStore::Open(const std::string& path,
                                                         EventTap* tap) {
  FT_ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db, SqliteDb::Open(path, Migrations()));
  // Opened (and migrated) with synchronous=FULL; from here on each write waits for a group fsync
  // of the WAL instead (wal_sync.h), outside the lock, so concurrent writers share one.
  FT_RETURN_IF_ERROR(db->Exec("PRAGMA synchronous=NORMAL"));
  // Checkpoints run beside the writers, not inside their commits (wal_checkpointer.h).
  FT_RETURN_IF_ERROR(db->Exec("PRAGMA wal_autocheckpoint=0"));
  std::unique_ptr<JobStore> store(new JobStore(std::move(db), path, tap));
  FT_ASSIGN_OR_RETURN(store->checkpointer_, WalCheckpointer::Start(path, kCheckpointInterval));
  return store;
}

absl::StatusOr<std::optional<ft::v1::Job>> JobStore::LoadLocked(const std::string& column,
                                                                const std::string& value) {
  FT_ASSIGN_OR_RETURN(Statement stmt,
                      db_->Prepare(absl::StrCat("SELECT job FROM jobs WHERE ", column, " = ?")));
  stmt.Bind(1, value);
  FT_ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return std::optional<ft::v1::Job>();
  FT_ASSIGN_OR_RETURN(ft::v1::Job job, ParseJob(stmt.ColumnBlob(0)));
  return std::optional<ft::v1::Job>(std::move(job));
}

absl::Status JobStore::SaveLocked(const ft::v1::Job& job) {
  FT_ASSIGN_OR_RETURN(Statement stmt,
                      db_->Prepare("UPDATE jobs SET state = ?, job = ? WHERE id = ?"));
  stmt.Bind(1, static_cast<int64_t>(job.state()))
      .BindBlob(2, job.SerializeAsString())
      .Bind(3, job.id());
  return stmt.Run();
}

absl::StatusOr<ft::v1::Job> JobStore::LoadExistingLocked(const std::string& job_id) {
  FT_ASSIGN_OR_RETURN(std::optional<ft::v1::Job> loaded, LoadLocked("id", job_id));
  if (!loaded) return absl::NotFoundError(absl::StrCat("no job with id '", job_id, "'"));
  return std::move(*loaded);
}

absl::Status JobStore::WriteDurably(const std::function<absl::Status()>& body) {
  uint64_t ticket = 0;
  {
    absl::MutexLock lock(&mu_);
    FT_RETURN_IF_ERROR(db_->InTransaction(body));
    ticket = wal_.Committed();
  }
  FT_RETURN_IF_ERROR(wal_.WaitDurable(ticket));
  if (tap_ != nullptr) tap_->AfterDurableWrite();
  return absl::OkStatus();
}

absl::Status JobStore::WithDatabase(const std::function<absl::Status(SqliteDb& db)>& body) {
  absl::MutexLock lock(&mu_);
  FT_RETURN_IF_ERROR(
      db_->InTransaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return body(*db_); }));
  wal_.Committed();
  return absl::OkStatus();
}

absl::Status JobStore::AppendEventsLocked(ft::v1::Job& job, std::vector<ft::v1::JobEvent>& events) {
  for (ft::v1::JobEvent& event : events) {
    event.set_job_id(job.id());
    event.set_seq(job.last_event_seq() + 1);
    job.set_last_event_seq(event.seq());
    FT_ASSIGN_OR_RETURN(Statement stmt,
                        db_->Prepare("INSERT INTO events (job_id, seq, event) VALUES (?, ?, ?)"));
    stmt.Bind(1, job.id())
        .Bind(2, static_cast<int64_t>(event.seq()))
        .BindBlob(3, event.SerializeAsString());
    FT_RETURN_IF_ERROR(stmt.Run());
    if (tap_ != nullptr) FT_RETURN_IF_ERROR(tap_->OnEventAppended(*db_, job, event));
  }
  return absl::OkStatus();
}

absl::StatusOr<CreateJobResult> JobStore::CreateJob(const RequestKey& key,
                                                    const JobMutation& init) {
  const std::string& request_id = key.request_id;
  const std::string& owner = key.owner;
  CreateJobResult result;
  // Also for a retried request: its first commit may still be waiting for its sync.
  FT_RETURN_IF_ERROR(WriteDurably([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
    if (!request_id.empty()) {
      FT_ASSIGN_OR_RETURN(std::optional<ft::v1::Job> existing,
                          LoadLocked("request_id", KeyColumn(owner, request_id)));
      if (existing) {
        result.job = std::move(*existing);
        result.created = false;
        return absl::OkStatus();
      }
    }
    // Insert a placeholder to get the creation sequence, which names the job.
    FT_ASSIGN_OR_RETURN(Statement insert,
                        db_->Prepare("INSERT INTO jobs (id, request_id, state, job) "
                                     "VALUES (hex(randomblob(16)), ?, 0, x'')"));
    if (request_id.empty()) {
      insert.BindNull(1);
    } else {
      insert.Bind(1, KeyColumn(owner, request_id));
    }
    FT_RETURN_IF_ERROR(insert.Run());
    const int64_t seq = db_->LastInsertRowId();
    ft::v1::Job job;
    job.set_id(absl::StrCat("job-", seq));
    job.set_request_id(request_id);
    FT_RETURN_IF_ERROR(init(job, result.events));
    job.set_id(absl::StrCat("job-", seq));  // the id is the store's, whatever init did
    job.set_owner(owner);
    FT_RETURN_IF_ERROR(AppendEventsLocked(job, result.events));
    FT_ASSIGN_OR_RETURN(
        Statement update,
        db_->Prepare("UPDATE jobs SET id = ?, state = ?, job = ?, owner = ? WHERE seq = ?"));
    update.Bind(1, job.id())
        .Bind(2, static_cast<int64_t>(job.state()))
        .BindBlob(3, job.SerializeAsString())
        .Bind(4, owner)
        .Bind(5, seq);
    FT_RETURN_IF_ERROR(update.Run());
    result.job = std::move(job);
    result.created = true;
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<ft::v1::Job> JobStore::UpdateJob(const std::string& job_id,
                                                const JobMutation& mutate,
                                                std::vector<ft::v1::JobEvent>* stored_events) {
  ft::v1::Job job;
  std::vector<ft::v1::JobEvent> events;
  FT_RETURN_IF_ERROR(WriteDurably([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
    FT_ASSIGN_OR_RETURN(job, LoadExistingLocked(job_id));
    FT_RETURN_IF_ERROR(mutate(job, events));
    job.set_id(job_id);
    FT_RETURN_IF_ERROR(AppendEventsLocked(job, events));
    return SaveLocked(job);
  }));
  if (stored_events != nullptr) *stored_events = std::move(events);
  return job;
}

absl::StatusOr<ft::v1::Job> JobStore::GetJob(const std::string& job_id) {
  absl::MutexLock lock(&mu_);
  FT_ASSIGN_OR_RETURN(std::optional<ft::v1::Job> job, LoadLocked("id", job_id));
  if (!job) return absl::NotFoundError(absl::StrCat("no job with id '", job_id, "'"));
  return std::move(*job);
}

absl::StatusOr<JobPage> JobStore::ListJobs(const std::vector<ft::v1::JobState>& states,
                                           int page_size, const std::string& page_token,
                                           const std::optional<std::string>& owner) {
  int64_t before = INT64_MAX;
  if (!page_token.empty() && (!absl::SimpleAtoi(page_token, &before) || before <= 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_token: '", page_token, "' is not a token from a previous page"));
  }
  absl::MutexLock lock(&mu_);
  FT_ASSIGN_OR_RETURN(
      Statement stmt,
      db_->Prepare(absl::StrCat("SELECT seq, job FROM jobs WHERE seq < ? AND ",
                                StatesClause(states), owner ? " AND owner = ?" : " AND ? IS NULL",
                                " ORDER BY seq DESC LIMIT ?")));
  stmt.Bind(1, before);
  if (owner) {
    stmt.Bind(2, *owner);
  } else {
    stmt.BindNull(2);
  }
  stmt.Bind(3, static_cast<int64_t>(page_size) + 1);
  JobPage page;
  int64_t last_seq = 0;
  while (true) {
    FT_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    if (static_cast<int>(page.jobs.size()) == page_size) {
      page.next_page_token = absl::StrCat(last_seq);
      break;
    }
    last_seq = stmt.ColumnInt(0);
    FT_ASSIGN_OR_RETURN(ft::v1::Job job, ParseJob(stmt.ColumnBlob(1)));
    page.jobs.push_back(std::move(job));
  }
  return page;
}

absl::StatusOr<std::vector<ft::v1::Job>> JobStore::JobsInStates(
    const std::vector<ft::v1::JobState>& states, int limit) {
  absl::MutexLock lock(&mu_);
  FT_ASSIGN_OR_RETURN(Statement stmt,
                      db_->Prepare(absl::StrCat("SELECT job FROM jobs WHERE ", StatesClause(states),
                                                " ORDER BY seq ASC LIMIT ?")));
  stmt.Bind(1, static_cast<int64_t>(limit));
  std::vector<ft::v1::Job> jobs;
  while (true) {
    FT_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    FT_ASSIGN_OR_RETURN(ft::v1::Job job, ParseJob(stmt.ColumnBlob(0)));
    jobs.push_back(std::move(job));
  }
  return jobs;
}

absl::StatusOr<std::vector<ft::v1::JobEvent>> JobStore::ReadEvents(const std::string& job_id,
                                                                   uint64_t after_seq, int limit) {
  std::vector<ft::v1::JobEvent> events;
  uint64_t newest_commit = 0;
  {
    absl::MutexLock lock(&mu_);
    FT_ASSIGN_OR_RETURN(Statement stmt,
                        db_->Prepare("SELECT event FROM events WHERE job_id = ? AND seq > ? "
                                     "ORDER BY seq ASC LIMIT ?"));
    stmt.Bind(1, job_id)
        .Bind(2, static_cast<int64_t>(after_seq))
        .Bind(3, static_cast<int64_t>(limit));
    while (true) {
      FT_ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      ft::v1::JobEvent event;
      if (!event.ParseFromString(stmt.ColumnBlob(0))) {
        return absl::DataLossError(absl::StrCat("stored event of ", job_id, " does not parse"));
      }
      events.push_back(std::move(event));
    }
    newest_commit = wal_.LastCommitted();
  }
  // No watcher sees an event before it is durable: the read may include a commit whose sync is
  // still running (usually none is, and this returns at once).
  FT_RETURN_IF_ERROR(wal_.WaitDurable(newest_commit));
  return events;
}

absl::StatusOr<std::map<ft::v1::JobState, int64_t>> JobStore::CountByState() {
  absl::MutexLock lock(&mu_);
  FT_ASSIGN_OR_RETURN(Statement stmt,
                      db_->Prepare("SELECT state, COUNT(*) FROM jobs GROUP BY state"));
  std::map<ft::v1::JobState, int64_t> counts;
  while (true) {
    FT_ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    counts[static_cast<ft::v1::JobState>(stmt.ColumnInt(0))] = stmt.ColumnInt(1);
  }
  return counts;
}

absl::StatusOr<int64_t> JobStore::CountJobs(ft::v1::JobState state) {
  absl::MutexLock lock(&mu_);
  FT_ASSIGN_OR_RETURN(Statement stmt, db_->Prepare("SELECT COUNT(*) FROM jobs WHERE state = ?"));
  stmt.Bind(1, static_cast<int64_t>(state));
  FT_ASSIGN_OR_RETURN(bool row, stmt.Step());
  return row ? stmt.ColumnInt(0) : 0;
}

absl::StatusOr<int64_t> JobStore::CountJobs(ft::v1::JobState state, const std::string& owner) {
  absl::MutexLock lock(&mu_);
  FT_ASSIGN_OR_RETURN(Statement stmt,
                      db_->Prepare("SELECT COUNT(*) FROM jobs WHERE owner = ? AND state = ?"));
  stmt.Bind(1, owner).Bind(2, static_cast<int64_t>(state));
  FT_ASSIGN_OR_RETURN(bool row, stmt.Step());
  return row ? stmt.ColumnInt(0) : 0;
}

absl::StatusOr<ft::v1::Job> JobStore::DeleteJob(
    const std::string& job_id, const std::function<absl::Status(const ft::v1::Job&)>& check) {
  ft::v1::Job job;
  FT_RETURN_IF_ERROR(WriteDurably([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
    FT_ASSIGN_OR_RETURN(job, LoadExistingLocked(job_id));
    if (check) FT_RETURN_IF_ERROR(check(job));
    FT_ASSIGN_OR_RETURN(Statement events, db_->Prepare("DELETE FROM events WHERE job_id = ?"));
    events.Bind(1, job_id);
    FT_RETURN_IF_ERROR(events.Run());
    FT_ASSIGN_OR_RETURN(Statement row, db_->Prepare("DELETE FROM jobs WHERE id = ?"));
    row.Bind(1, job_id);
    return row.Run();
  }));
  return job;
}

}  // namespace ft::store
