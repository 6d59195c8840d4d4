// SHA-256 digests of a job's files, remembered by file identity (inode, size, mtime), so that
// listing a finished job's model twice reads its gigabytes once. A file that changes gets a new
// identity and is hashed again.
#pragma once

#include <cstdint>
#include <string>
#include <tuple>
#include <unordered_map>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "server/store/job_path.h"

namespace ft::artifacts {

class DigestCache {
 public:
  // Holds at most `capacity` digests; when full, it starts again empty (digests are cheap to
  // recompute compared with the bookkeeping of an LRU for a rarely full cache).
  explicit DigestCache(size_t capacity = 4096) : capacity_(capacity) {}

  // Lower-case hex SHA-256 of `file` (read with pread from its start). `where` names the file in
  // the error. Throws std::runtime_error on a read error.
  std::string Sha256(const std::string& where, const store::OpenFile& file);

 private:
  struct Key {
    std::string where;
    uint64_t inode;
    uint64_t size;
    int64_t mtime_ns;
    bool operator==(const Key& other) const {
      return std::tie(where, inode, size, mtime_ns) ==
             std::tie(other.where, other.inode, other.size, other.mtime_ns);
    }
  };
  struct KeyHash {
    size_t operator()(const Key& key) const {
      return std::hash<std::string>()(key.where) ^ (key.inode * 0x9e3779b97f4a7c15ULL) ^
             (key.size << 1) ^ static_cast<uint64_t>(key.mtime_ns);
    }
  };

  const size_t capacity_;
  absl::Mutex mu_;
  std::unordered_map<Key, std::string, KeyHash> digests_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ft::artifacts
