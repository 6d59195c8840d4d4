#include "common/torchsave/zip_archive.h"

#include <utility>

#include "common/torchsave/torch_save_error.h"

namespace ft::torchsave {
namespace {

constexpr uint32_t kLocalHeaderSignature = 0x04034b50;
constexpr uint32_t kCentralHeaderSignature = 0x02014b50;
constexpr uint32_t kEndSignature = 0x06054b50;
constexpr uint32_t kZip64EndSignature = 0x06064b50;
constexpr uint32_t kZip64LocatorSignature = 0x07064b50;
constexpr uint16_t kZip64ExtraId = 0x0001;
constexpr std::size_t kEndRecordSize = 22;
constexpr std::size_t kZip64LocatorSize = 20;
constexpr std::size_t kZip64EndSize = 56;
constexpr std::size_t kCentralHeaderSize = 46;
constexpr std::size_t kLocalHeaderSize = 30;
constexpr std::size_t kMaxCommentSize = 0xffff;
constexpr uint32_t kOverflow32 = 0xffffffff;

// Little-endian integers at `offset`; the caller has checked that they lie inside `bytes`.
uint64_t Little(std::string_view bytes, uint64_t offset, int width) {
  uint64_t value = 0;
  for (int i = width - 1; i >= 0; --i) {
    value = (value << 8) | static_cast<unsigned char>(bytes[offset + i]);
  }
  return value;
}

}  // namespace

std::unique_ptr<ZipArchive> ZipArchive::Open(const std::string& path) {
  std::string error;
  std::unique_ptr<util::MappedFile> file = util::MappedFile::Open(path, &error);
  if (file == nullptr) throw TorchSaveError(path + ": " + error);
  if (file->bytes().size() < kEndRecordSize) {
    throw TorchSaveError(path + ": " + std::to_string(file->bytes().size()) +
                         " bytes, too short for a zip archive (a torch.save file)");
  }
  const std::string_view bytes = file->bytes();
  std::unique_ptr<ZipArchive> archive(new ZipArchive(path, bytes, std::move(file)));
  archive->ReadCentralDirectory();
  return archive;
}

std::unique_ptr<ZipArchive> ZipArchive::FromBytes(std::string_view bytes,
                                                  const std::string& path) {
  std::unique_ptr<ZipArchive> archive(new ZipArchive(path, bytes, nullptr));
  archive->ReadCentralDirectory();
  return archive;
}

ZipArchive::ZipArchive(std::string path, std::string_view bytes,
                       std::unique_ptr<util::MappedFile> file)
    : path_(std::move(path)), bytes_(bytes), file_(std::move(file)) {}

ZipArchive::~ZipArchive() = default;

const ZipEntry* ZipArchive::Find(const std::string& name) const {
  const auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : &it->second;
}

std::string_view ZipArchive::Bytes(const ZipEntry& entry) const {
  return bytes_.substr(entry.data_offset, entry.size);
}

void ZipArchive::ReadCentralDirectory() {
  const auto fail = [this](const std::string& message) {
    throw TorchSaveError(path_ + ": " + message);
  };
  const uint64_t size = bytes_.size();
  if (size < kEndRecordSize) fail("too short for a zip archive (a torch.save file)");
  const auto fits = [size](uint64_t offset, uint64_t length) {
    return offset <= size && length <= size - offset;
  };

  // The end record sits at the end, before a comment of up to 64 KiB: search backwards.
  uint64_t end = size - kEndRecordSize;
  const uint64_t lowest = end > kMaxCommentSize ? end - kMaxCommentSize : 0;
  while (Little(bytes_, end, 4) != kEndSignature) {
    if (end == lowest) {
      fail("not a zip archive (no end of central directory record); a torch.save file since "
           "PyTorch 1.6 is one");
    }
    --end;
  }
  uint64_t count = Little(bytes_, end + 10, 2);
  uint64_t directory_size = Little(bytes_, end + 12, 4);
  uint64_t directory = Little(bytes_, end + 16, 4);
  if (count == 0xffff || directory_size == kOverflow32 || directory == kOverflow32) {
    if (end < kZip64LocatorSize ||
        Little(bytes_, end - kZip64LocatorSize, 4) != kZip64LocatorSignature) {
      fail("the end record needs a ZIP64 record, which is missing");
    }
    const uint64_t record = Little(bytes_, end - kZip64LocatorSize + 8, 8);
    if (!fits(record, kZip64EndSize) || Little(bytes_, record, 4) != kZip64EndSignature) {
      fail("the ZIP64 end record is missing or runs past the end of the file");
    }
    count = Little(bytes_, record + 32, 8);
    directory_size = Little(bytes_, record + 40, 8);
    directory = Little(bytes_, record + 48, 8);
  }
  if (!fits(directory, directory_size) || count > directory_size / kCentralHeaderSize) {
    fail("the central directory (" + std::to_string(count) + " entries at byte " +
         std::to_string(directory) + ") runs past the end of the file: truncated?");
  }

  uint64_t at = directory;
  const uint64_t directory_end = directory + directory_size;
  for (uint64_t i = 0; i < count; ++i) {
    if (at > directory_end || directory_end - at < kCentralHeaderSize ||
        Little(bytes_, at, 4) != kCentralHeaderSignature) {
      fail("central directory entry " + std::to_string(i) + " is malformed");
    }
    const uint64_t flags = Little(bytes_, at + 8, 2);
    const uint64_t method = Little(bytes_, at + 10, 2);
    uint64_t compressed = Little(bytes_, at + 20, 4);
    uint64_t uncompressed = Little(bytes_, at + 24, 4);
    const uint64_t name_size = Little(bytes_, at + 28, 2);
    const uint64_t extra_size = Little(bytes_, at + 30, 2);
    const uint64_t comment_size = Little(bytes_, at + 32, 2);
    uint64_t local = Little(bytes_, at + 42, 4);
    const uint64_t record_size = kCentralHeaderSize + name_size + extra_size + comment_size;
    if (directory_end - at < record_size) {
      fail("central directory entry " + std::to_string(i) + " runs past the directory");
    }
    const std::string name(bytes_.substr(at + kCentralHeaderSize, name_size));
    const std::string where = "entry '" + name + "': ";
    // ZIP64 extra field: the 8-byte values of those fields that hold 0xffffffff, in this order.
    uint64_t extra = at + kCentralHeaderSize + name_size;
    const uint64_t extra_end = extra + extra_size;
    while (extra_end - extra >= 4) {
      const uint64_t id = Little(bytes_, extra, 2);
      const uint64_t length = Little(bytes_, extra + 2, 2);
      if (extra_end - extra - 4 < length) fail(where + "an extra field runs past its entry");
      if (id == kZip64ExtraId) {
        uint64_t field = extra + 4;
        for (uint64_t* value : {&uncompressed, &compressed, &local}) {
          if (*value != kOverflow32) continue;
          if (field + 8 > extra + 4 + length) fail(where + "the ZIP64 extra field is too short");
          *value = Little(bytes_, field, 8);
          field += 8;
        }
      }
      extra += 4 + length;
    }
    if ((flags & 1u) != 0) fail(where + "encrypted; torch.save never encrypts");
    if (method != 0 || compressed != uncompressed) {
      fail(where + "compressed (method " + std::to_string(method) +
           "); torch.save stores entries uncompressed, so this file was repacked: save it again "
           "with torch.save, or convert it to safetensors");
    }
    if (!fits(local, kLocalHeaderSize) || Little(bytes_, local, 4) != kLocalHeaderSignature) {
      fail(where + "its local header is missing or past the end of the file: truncated?");
    }
    const uint64_t data = local + kLocalHeaderSize + Little(bytes_, local + 26, 2) +
                          Little(bytes_, local + 28, 2);
    if (!fits(data, uncompressed)) {
      fail(where + std::to_string(uncompressed) + " bytes at byte " + std::to_string(data) +
           " run past the end of the file (" + std::to_string(size) + " bytes): truncated?");
    }
    if (!entries_.emplace(name, ZipEntry{data, uncompressed}).second) {
      fail(where + "appears twice");
    }
    at += record_size;
  }
}

}  // namespace ft::torchsave
