#include "common/util/atomic_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace ft {

AtomicFileWriter::AtomicFileWriter(std::string path, const std::string& temp_suffix)
    : path_(std::move(path)), temp_path_(path_ + temp_suffix) {
  out_.open(temp_path_, std::ios::binary | std::ios::trunc);
  if (!out_) {
    throw std::runtime_error("cannot write " + path_ + " (through " + temp_path_ +
                             "): " + std::strerror(errno));
  }
}

AtomicFileWriter::~AtomicFileWriter() {
  if (committed_) return;
  out_.close();
  std::remove(temp_path_.c_str());
}

void AtomicFileWriter::Write(const void* data, std::size_t size) {
  out_.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  // errno still holds the failed write's cause (a full disk: "No space left on device").
  if (!out_) throw std::runtime_error("error writing " + temp_path_ + ": " + std::strerror(errno));
}

void AtomicFileWriter::Commit() {
  errno = 0;
  out_.flush();
  out_.close();
  if (out_.fail()) {
    throw std::runtime_error("error closing " + temp_path_ + ": " +
                             (errno != 0 ? std::strerror(errno) : "unknown cause"));
  }
  if (std::rename(temp_path_.c_str(), path_.c_str()) != 0) {
    throw std::runtime_error("cannot rename " + temp_path_ + " to " + path_ + ": " +
                             std::strerror(errno));
  }
  committed_ = true;
}

void WriteFileAtomically(const std::string& path, std::string_view contents,
                         const std::string& temp_suffix) {
  AtomicFileWriter writer(path, temp_suffix);
  writer.Write(contents);
  writer.Commit();
}

}  // namespace ft
