// Names of files inside a job's folder as a client gives them (artifact downloads; links of a
// web page): relative, '/'-separated, and never leading outside the folder. Every part is opened
// with O_NOFOLLOW relative to the one before, so neither `..`, an absolute name, a symbolic link
// nor a rename made meanwhile can reach another file.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ft::store {

// INVALID_ARGUMENT, naming `field`, unless `name` is relative and made of non-empty parts that
// are neither "." nor "..", without NUL or backslash.
absl::Status CheckRelativeName(absl::string_view name, absl::string_view field);

// A regular file opened for reading; closes it on destruction.
class OpenFile {
 public:
  OpenFile() = default;
  OpenFile(int fd, uint64_t size, int64_t mtime_ns, uint64_t inode)
      : fd_(fd), size_(size), mtime_ns_(mtime_ns), inode_(inode) {}
  OpenFile(OpenFile&& other) noexcept { *this = std::move(other); }
  OpenFile& operator=(OpenFile&& other) noexcept;
  OpenFile(const OpenFile&) = delete;
  OpenFile& operator=(const OpenFile&) = delete;
  ~OpenFile();

  int fd() const { return fd_; }
  uint64_t size() const { return size_; }
  int64_t mtime_ns() const { return mtime_ns_; }
  uint64_t inode() const { return inode_; }

 private:
  int fd_ = -1;
  uint64_t size_ = 0;
  int64_t mtime_ns_ = 0;
  uint64_t inode_ = 0;
};

// Opens `name` (checked by CheckRelativeName as `field`) inside `folder`. INVALID_ARGUMENT when
// a part of it is a symbolic link; NOT_FOUND when it does not exist or is not a regular file
// (or `folder` itself is missing or a symbolic link).
absl::StatusOr<OpenFile> OpenInFolder(const std::string& folder, absl::string_view name,
                                      absl::string_view field);

}  // namespace ft::store
