// Reader for the safetensors format (see safetensors_writer.h for the layout). The file is
// memory-mapped and checked completely when opened, before any tensor is read:
//   - at least 8 bytes; the header length fits in the file (and is at most 100 MB);
//   - the header is a JSON object of {"dtype", "shape", "data_offsets"} entries (plus an optional
//     "__metadata__" of strings), no name twice;
//   - each tensor's byte length equals its element count times its dtype's size;
//   - sorted by offset, the tensors cover the data section exactly: from byte 0, no gap, no
//     overlap, nothing after the last one.
// A malformed file throws SafetensorsError naming the file and, where one is at fault, the
// tensor. Standard library only.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/util/half_float.h"
#include "common/util/mapped_file.h"

namespace ft::io {

class SafetensorsError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct SafetensorsEntry {
  std::string name;
  std::string dtype;  // "F32", "F16", "BF16", "F64", "I64", ... as in the header
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // byte offsets into the data section (after the header)
  uint64_t end = 0;

  int64_t ElementCount() const;
};

class SafetensorsFile {
 public:
  // Maps and checks `path`. Throws SafetensorsError ("<path>: tensor 'x': ...").
  static std::unique_ptr<SafetensorsFile> Open(const std::string& path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  // Every tensor, in the order of their data.
  const std::vector<SafetensorsEntry>& entries() const { return entries_; }
  // nullptr when there is no tensor of that name.
  const SafetensorsEntry* Find(const std::string& name) const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  // The tensor's raw little-endian bytes inside the mapping (not necessarily aligned).
  const unsigned char* Bytes(const SafetensorsEntry& entry) const;

  // Converts an F32, F16 or BF16 tensor to float32 into out[0 .. ElementCount()). Throws
  // SafetensorsError naming the tensor for other dtypes.
  void ReadAsFloat32(const SafetensorsEntry& entry, float* out) const;

 private:
  SafetensorsFile(std::string path, std::unique_ptr<util::MappedFile> file);
  void ParseHeader();

  std::string path_;
  std::unique_ptr<util::MappedFile> file_;
  const unsigned char* mapping_;
  std::size_t size_;
  const unsigned char* data_ = nullptr;  // start of the data section
  std::vector<SafetensorsEntry> entries_;
  std::map<std::string, std::size_t> index_;  // name -> position in entries_
  std::map<std::string, std::string> metadata_;
};

// IEEE 754 half and bfloat16 bit patterns to float32 (common/util/half_float.h).
using util::BFloat16ToFloat;
using util::HalfToFloat;

}  // namespace ft::io
