// A whole regular file mapped read-only into memory (the checkpoint readers read tensors in
// place, one at a time, without copying the file). Standard library + POSIX only.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace ft::util {

class MappedFile {
 public:
  // nullptr with *error set ("cannot open: <strerror>", "not a regular file", "cannot map:
  // ...") when `path` cannot be mapped. An empty file maps to no bytes.
  static std::unique_ptr<MappedFile> Open(const std::string& path, std::string* error);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::string_view bytes() const { return {data_, size_}; }

 private:
  MappedFile(const char* data, std::size_t size) : data_(data), size_(size) {}

  const char* data_;
  std::size_t size_;
};

}  // namespace ft::util
