#include "server/store/wal_checkpointer.h"

#include "server/store/sqlite_db.h"
#include "spdlog/spdlog.h"

namespace ft::store {

absl::StatusOr<std::unique_ptr<WalCheckpointer>> WalCheckpointer::Start(const std::string& path,
                                                                       absl::Duration interval) {
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                                 nullptr);
  if (rc != SQLITE_OK) {
    absl::Status status = SqliteError(db, rc, "open database " + path + " for checkpoints");
    sqlite3_close(db);
    return status;
  }
  sqlite3_busy_timeout(db, 10000);
  std::unique_ptr<WalCheckpointer> checkpointer(new WalCheckpointer(db));
  // A fresh connection knows the file is in WAL mode only once it has read it; until then a
  // checkpoint does nothing (and reports -1 frames).
  char* error = nullptr;
  const int mode_rc = sqlite3_exec(db, "PRAGMA journal_mode=WAL", nullptr, nullptr, &error);
  sqlite3_free(error);
  if (mode_rc != SQLITE_OK) return SqliteError(db, mode_rc, "WAL mode for checkpoints on " + path);
  if (interval > absl::ZeroDuration()) {
    checkpointer->thread_ =
        std::thread([raw = checkpointer.get(), interval] { raw->Loop(interval); });
  }
  return checkpointer;
}

WalCheckpointer::~WalCheckpointer() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
  sqlite3_close_v2(db_);
}

absl::StatusOr<int> WalCheckpointer::RunOnce() {
  absl::MutexLock lock(&mu_);
  int log_frames = 0;
  int copied = 0;
  const int rc =
      sqlite3_wal_checkpoint_v2(db_, nullptr, SQLITE_CHECKPOINT_PASSIVE, &log_frames, &copied);
  if (rc != SQLITE_OK) return SqliteError(db_, rc, "checkpoint");
  if (log_frames < 0) return absl::FailedPreconditionError("checkpoint: not a WAL database");
  return copied;
}

void WalCheckpointer::Loop(absl::Duration interval) {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (mu_.AwaitWithTimeout(absl::Condition(&stopping_), interval)) return;
    }
    absl::StatusOr<int> copied = RunOnce();
    // A busy database is retried at the next interval; the writers are never blocked by this.
    if (!copied.ok()) spdlog::warn("WAL checkpoint: {}", copied.status().ToString());
  }
}

}  // namespace ft::store
