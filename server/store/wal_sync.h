// Group commit for a SQLite database in WAL mode with synchronous=NORMAL: COMMIT only writes the
// WAL (no fsync), and each writer then waits here until one fdatasync of the WAL file, shared
// with every writer that committed before it started, has made its transaction durable. So an
// acknowledged change is on disk (power loss included, as with synchronous=FULL), while the
// store's lock is never held across an fsync and concurrent writers share one.
//
// SQLite itself still syncs the WAL before each checkpoint copies it into the database, so a
// transaction that a checkpoint moved out of the WAL is durable there.
#pragma once

#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace ft::store {

class WalSync {
 public:
  // `wal_path`: the database's write-ahead log (<db>-wal).
  explicit WalSync(std::string wal_path) : wal_path_(std::move(wal_path)) {}

  // Call right after a COMMIT returned, before the database's lock is released, so that tickets
  // follow commit order. Returns the commit's ticket.
  uint64_t Committed();
  // The newest ticket: a read made under the database's lock sees no commit after it.
  uint64_t LastCommitted() const;
  // Returns once every commit up to `ticket` is durable. One caller at a time runs the fdatasync;
  // the others wait for it, and a sync covers every ticket issued before it started.
  absl::Status WaitDurable(uint64_t ticket);

  uint64_t syncs() const;  // fdatasync calls so far (tests: commits share them)

 private:
  absl::Status SyncWal();

  const std::string wal_path_;
  mutable absl::Mutex mu_;
  absl::CondVar synced_;
  uint64_t committed_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t durable_ ABSL_GUARDED_BY(mu_) = 0;
  bool syncing_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t syncs_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace ft::store
