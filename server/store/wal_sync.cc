#include "server/store/wal_sync.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"

namespace ft::store {

uint64_t WalSync::Committed() {
  absl::MutexLock lock(&mu_);
  return ++committed_;
}

uint64_t WalSync::LastCommitted() const {
  absl::MutexLock lock(&mu_);
  return committed_;
}

uint64_t WalSync::syncs() const {
  absl::MutexLock lock(&mu_);
  return syncs_;
}

absl::Status WalSync::SyncWal() {
  const int fd = open(wal_path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    // No WAL file: SQLite removed it after checkpointing everything into the database (and
    // syncing it), so there is nothing left to make durable.
    if (errno == ENOENT) return absl::OkStatus();
    return absl::UnavailableError(absl::StrCat("open ", wal_path_, ": ", strerror(errno)));
  }
  const int rc = fdatasync(fd);
  const int sync_errno = errno;
  close(fd);
  if (rc != 0) {
    return absl::UnavailableError(
        absl::StrCat("fdatasync ", wal_path_, ": ", strerror(sync_errno)));
  }
  return absl::OkStatus();
}

absl::Status WalSync::WaitDurable(uint64_t ticket) {
  absl::MutexLock lock(&mu_);
  while (durable_ < ticket) {
    if (syncing_) {
      synced_.Wait(&mu_);
      continue;
    }
    syncing_ = true;
    const uint64_t target = committed_;  // every commit so far is in the WAL file
    ++syncs_;
    mu_.Unlock();
    const absl::Status status = SyncWal();
    mu_.Lock();
    syncing_ = false;
    if (status.ok() && target > durable_) durable_ = target;
    synced_.SignalAll();
    // The others retry with a sync of their own; this caller's change is not known durable.
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace ft::store
