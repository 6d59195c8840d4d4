// Checkpoints a WAL-mode SQLite database from a thread and a connection of its own. SQLite
// otherwise checkpoints inside the COMMIT that crosses 1,000 WAL pages: 10-30 ms of copying and
// fsyncs there, under the job store's lock, every few hundred writes, which every call waiting for
// the store pays. A PASSIVE checkpoint runs beside the writers (it never blocks them, and copies
// only frames no reader still needs); the writers' connection is set to wal_autocheckpoint=0.
// SQLite syncs the WAL before copying and the database after, so what it moves stays durable.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace ft::store {

class WalCheckpointer {
 public:
  // Opens its own connection to `path` (an existing WAL database). With a positive `interval`,
  // a thread checkpoints every `interval` until destruction; else only RunOnce does.
  static absl::StatusOr<std::unique_ptr<WalCheckpointer>> Start(const std::string& path,
                                                               absl::Duration interval);
  ~WalCheckpointer();  // stops the thread and closes the connection
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  // One PASSIVE checkpoint: the frames now copied into the database (all of them when no reader
  // holds an older snapshot).
  absl::StatusOr<int> RunOnce();

 private:
  explicit WalCheckpointer(sqlite3* db) : db_(db) {}
  void Loop(absl::Duration interval);

  absl::Mutex mu_;  // one checkpoint at a time on db_
  sqlite3* const db_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace ft::store
