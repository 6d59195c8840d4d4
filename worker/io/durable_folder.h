// Durable writes of whole folders, for checkpoints: every file is written and fsynced inside a
// temporary folder, which is then renamed into place and its parent fsynced. After a crash a
// reader finds either the complete folder under its final name or none (a leftover temporary
// folder is the writer's to remove). Standard library + POSIX only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ft::io {

// Writes a file through a POSIX descriptor and fsyncs it on Close(). Not atomic by itself: use it
// inside a folder that CommitFolder() renames into place.
class DurableFileWriter {
 public:
  // Creates or truncates `path`. Throws std::runtime_error when it cannot.
  explicit DurableFileWriter(std::string path);
  ~DurableFileWriter();  // closes without fsync when Close() was not called
  DurableFileWriter(const DurableFileWriter&) = delete;
  DurableFileWriter& operator=(const DurableFileWriter&) = delete;

  void Write(const void* data, std::size_t size);
  void Write(std::string_view bytes) { Write(bytes.data(), bytes.size()); }
  // fsync + close. Throws on any error.
  void Close();

  uint64_t bytes_written() const { return bytes_written_; }

 private:
  std::string path_;
  int fd_ = -1;
  uint64_t bytes_written_ = 0;
};

// Small files in one call: write, fsync, close.
void WriteFileDurably(const std::string& path, std::string_view contents);

// fsyncs a folder, so that the names created, renamed or removed in it are on disk.
void FsyncFolder(const std::string& path);

// Renames `temp_folder` to `final_folder` (which must not exist) and fsyncs their parent. The
// files inside must already be durable (DurableFileWriter). Throws std::runtime_error.
void CommitFolder(const std::string& temp_folder, const std::string& final_folder);

}  // namespace ft::io
