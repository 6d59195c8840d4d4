// Writing a file so that readers see either the old content or the complete new one: the bytes go
// to "<path>.tmp" (or "<path><temp_suffix>") and are renamed over `path` only once everything was
// written.
#pragma once

#include <fstream>
#include <string>
#include <string_view>

namespace ft {

class AtomicFileWriter {
 public:
  // Opens "<path><temp_suffix>" for writing. Throws std::runtime_error when it cannot. Writers
  // that may race for the same path (two processes filling one cache entry) give each a unique
  // suffix, so that their bytes never mix; the last rename wins.
  explicit AtomicFileWriter(std::string path, const std::string& temp_suffix = ".tmp");
  // Removes the temporary file unless Commit() succeeded.
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  void Write(const void* data, std::size_t size);
  void Write(std::string_view bytes) { Write(bytes.data(), bytes.size()); }

  // Flushes, closes and renames the temporary file to the final path. Throws on any error.
  void Commit();

 private:
  std::string path_;
  std::string temp_path_;
  std::ofstream out_;
  bool committed_ = false;
};

// Convenience for small files. Throws std::runtime_error naming the file and the cause.
void WriteFileAtomically(const std::string& path, std::string_view contents,
                         const std::string& temp_suffix = ".tmp");

}  // namespace ft
