// The zip container torch.save writes since PyTorch 1.6: entries stored without compression
// (ZIP64 records where sizes or offsets pass 4 GiB), read in place from a memory-mapped file.
// Only the central directory is trusted for names and sizes; each entry's data starts after its
// own local header (torch pads that header so that tensor data is 64-byte aligned). Refuses,
// naming the file (and the entry): a file that is not a zip archive, a compressed or encrypted
// entry, and any record or entry that runs past the end of the file. Standard library only.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/util/mapped_file.h"

namespace ft::torchsave {

struct ZipEntry {
  uint64_t data_offset = 0;  // from the start of the file
  uint64_t size = 0;
};

class ZipArchive {
 public:
  // Maps `path` and reads its central directory. Throws TorchSaveError.
  static std::unique_ptr<ZipArchive> Open(const std::string& path);
  // Reads the archive in `bytes` (not copied: it must outlive the archive); `path` names it in
  // errors. Throws TorchSaveError.
  static std::unique_ptr<ZipArchive> FromBytes(std::string_view bytes, const std::string& path);
  ~ZipArchive();
  ZipArchive(const ZipArchive&) = delete;
  ZipArchive& operator=(const ZipArchive&) = delete;

  const std::string& path() const { return path_; }
  const std::map<std::string, ZipEntry>& entries() const { return entries_; }
  // nullptr when the archive has no entry of that name.
  const ZipEntry* Find(const std::string& name) const;
  // The entry's bytes inside the mapping.
  std::string_view Bytes(const ZipEntry& entry) const;

 private:
  ZipArchive(std::string path, std::string_view bytes, std::unique_ptr<util::MappedFile> file);
  void ReadCentralDirectory();

  std::string path_;
  std::string_view bytes_;
  std::unique_ptr<util::MappedFile> file_;  // nullptr for FromBytes
  std::map<std::string, ZipEntry> entries_;
};

}  // namespace ft::torchsave
