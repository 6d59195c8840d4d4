#include "worker/io/durable_folder.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace ft::io {
namespace {

std::runtime_error ErrnoError(const std::string& what, const std::string& path) {
  return std::runtime_error(what + " " + path + ": " + std::strerror(errno));
}

}  // namespace

DurableFileWriter::DurableFileWriter(std::string path) : path_(std::move(path)) {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) throw ErrnoError("cannot open for writing", path_);
}

DurableFileWriter::~DurableFileWriter() {
  if (fd_ >= 0) ::close(fd_);
}

void DurableFileWriter::Write(const void* data, std::size_t size) {
  const char* bytes = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t written = ::write(fd_, bytes, size);
    if (written < 0) {
      if (errno == EINTR) continue;
      throw ErrnoError("error writing", path_);
    }
    bytes += written;
    size -= static_cast<std::size_t>(written);
    bytes_written_ += static_cast<uint64_t>(written);
  }
}

void DurableFileWriter::Close() {
  if (::fsync(fd_) != 0) throw ErrnoError("cannot fsync", path_);
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) throw ErrnoError("error closing", path_);
}

void WriteFileDurably(const std::string& path, std::string_view contents) {
  DurableFileWriter writer(path);
  writer.Write(contents);
  writer.Close();
}

void FsyncFolder(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) throw ErrnoError("cannot open folder", path);
  const int result = ::fsync(fd);
  const int fsync_errno = errno;
  ::close(fd);
  errno = fsync_errno;
  if (result != 0) throw ErrnoError("cannot fsync folder", path);
}

void CommitFolder(const std::string& temp_folder, const std::string& final_folder) {
  FsyncFolder(temp_folder);  // the names of the files inside
  if (std::rename(temp_folder.c_str(), final_folder.c_str()) != 0) {
    throw ErrnoError("cannot rename " + temp_folder + " to", final_folder);
  }
  FsyncFolder(std::filesystem::path(final_folder).parent_path().string());
}

}  // namespace ft::io
