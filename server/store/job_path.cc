#include "server/store/job_path.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace ft::store {
namespace {

// A descriptor closed on scope exit (the folders walked through).
struct ScopedFd {
  int fd = -1;
  ~ScopedFd() {
    if (fd >= 0) close(fd);
  }
};

int OpenNoFollow(int dir_fd, const char* name, int flags) {
  int fd;
  do {
    fd = openat(dir_fd, name, flags | O_NOFOLLOW | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

}  // namespace

absl::Status CheckRelativeName(absl::string_view name, absl::string_view field) {
  const auto refuse = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(field, " \"", name, "\": ", why));
  };
  if (name.empty()) return absl::InvalidArgumentError(absl::StrCat(field, " is required"));
  if (name.front() == '/') return refuse("must be relative to the job's folder, not absolute");
  if (name.find('\0') != absl::string_view::npos) return refuse("contains a NUL byte");
  if (name.find('\\') != absl::string_view::npos) return refuse("use '/' between folder names");
  for (absl::string_view part : absl::StrSplit(name, '/')) {
    if (part.empty()) return refuse("has an empty part ('//' or a trailing '/')");
    if (part == "..") return refuse("must not contain '..'");
    if (part == ".") return refuse("must not contain '.' parts");
  }
  return absl::OkStatus();
}

OpenFile& OpenFile::operator=(OpenFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) close(fd_);
    fd_ = other.fd_;
    size_ = other.size_;
    mtime_ns_ = other.mtime_ns_;
    inode_ = other.inode_;
    other.fd_ = -1;
  }
  return *this;
}

OpenFile::~OpenFile() {
  if (fd_ >= 0) close(fd_);
}

absl::StatusOr<OpenFile> OpenInFolder(const std::string& folder, absl::string_view name,
                                      absl::string_view field) {
  if (absl::Status checked = CheckRelativeName(name, field); !checked.ok()) return checked;
  const auto not_found = [&]() {
    return absl::NotFoundError(absl::StrCat(field, " \"", name, "\": no such file"));
  };
  ScopedFd dir{OpenNoFollow(AT_FDCWD, folder.c_str(), O_RDONLY | O_DIRECTORY)};
  if (dir.fd < 0) return not_found();
  const std::vector<std::string> parts = absl::StrSplit(name, '/');
  for (size_t i = 0; i < parts.size(); ++i) {
    const bool last = i + 1 == parts.size();
    struct stat info {};
    if (fstatat(dir.fd, parts[i].c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0) return not_found();
    if (S_ISLNK(info.st_mode)) {
      return absl::InvalidArgumentError(absl::StrCat(field, " \"", name, "\": \"", parts[i],
                                                     "\" is a symbolic link, which is refused"));
    }
    if (last && !S_ISREG(info.st_mode)) {
      return absl::NotFoundError(absl::StrCat(field, " \"", name, "\": not a regular file"));
    }
    // O_NOFOLLOW again at the open: a part swapped for a link after the check fails with ELOOP.
    const int fd = OpenNoFollow(dir.fd, parts[i].c_str(),
                                last ? O_RDONLY | O_NONBLOCK : O_RDONLY | O_DIRECTORY);
    if (fd < 0) {
      if (errno == ELOOP) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, " \"", name, "\": a symbolic link, which is refused"));
      }
      return not_found();
    }
    if (!last) {
      close(dir.fd);
      dir.fd = fd;
      continue;
    }
    // O_NONBLOCK: a FIFO put there after the check must not hang the open; fstat tells.
    if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
      close(fd);
      return absl::NotFoundError(absl::StrCat(field, " \"", name, "\": not a regular file"));
    }
    return OpenFile(
        fd, static_cast<uint64_t>(info.st_size),
        static_cast<int64_t>(info.st_mtim.tv_sec) * 1'000'000'000 + info.st_mtim.tv_nsec,
        static_cast<uint64_t>(info.st_ino));
  }
  return not_found();
}

}  // namespace ft::store
