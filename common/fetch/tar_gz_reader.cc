#include "common/fetch/tar_gz_reader.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace ft::fetch {
namespace {

constexpr int64_t kBlock = 512;

struct GzCloser {
  void operator()(gzFile_s* file) const { gzclose(file); }
};

class GzStream {
 public:
  explicit GzStream(const std::string& path) : path_(path), file_(gzopen(path.c_str(), "rb")) {
    if (!file_) throw std::runtime_error(path + ": cannot read");
    gzbuffer(file_.get(), 1 << 20);
  }
  // Reads exactly `size` bytes; false at a clean end of stream before any byte.
  bool Read(char* out, int64_t size) {
    int64_t done = 0;
    while (done < size) {
      const unsigned chunk = static_cast<unsigned>(std::min<int64_t>(size - done, 1 << 30));
      const int got = gzread(file_.get(), out + done, chunk);
      if (got < 0) Fail("damaged gzip data");
      if (got == 0) {
        if (done == 0) return false;
        Fail("truncated");
      }
      done += got;
    }
    return true;
  }
  void Skip(int64_t size) {
    std::array<char, 65536> scratch;
    while (size > 0) {
      const int64_t chunk = std::min<int64_t>(size, scratch.size());
      if (!Read(scratch.data(), chunk)) Fail("truncated");
      size -= chunk;
    }
  }
  [[noreturn]] void Fail(const std::string& why) const {
    throw std::runtime_error(path_ + ": not a valid .tar.gz archive (" + why + ")");
  }

 private:
  std::string path_;
  std::unique_ptr<gzFile_s, GzCloser> file_;
};

int64_t ParseOctal(const char* field, size_t width) {
  int64_t value = 0;
  for (size_t i = 0; i < width && field[i] != '\0' && field[i] != ' '; ++i) {
    if (field[i] < '0' || field[i] > '7') return -1;
    value = value * 8 + (field[i] - '0');
  }
  return value;
}

std::string Field(const char* field, size_t width) {
  return std::string(field, strnlen(field, width));
}

int64_t Padded(int64_t size) { return (size + kBlock - 1) / kBlock * kBlock; }

// "NN path=VALUE\n" records of a pax extended header: the path, if one is given.
std::string PaxPath(const std::string& records) {
  size_t at = 0;
  std::string path;
  while (at < records.size()) {
    const size_t space = records.find(' ', at);
    if (space == std::string::npos) break;
    const int64_t length = std::atoll(records.substr(at, space - at).c_str());
    if (length <= 0 || at + static_cast<size_t>(length) > records.size()) break;
    const std::string record = records.substr(space + 1, at + length - space - 2);
    if (record.rfind("path=", 0) == 0) path = record.substr(5);
    at += static_cast<size_t>(length);
  }
  return path;
}

}  // namespace

void ReadTarGz(const std::string& archive, const TarFileFilter& wanted,
               const TarFileContent& on_content) {
  GzStream stream(archive);
  std::array<char, kBlock> header;
  std::string long_name;  // from a GNU 'L' or pax 'x' entry, for the next entry
  while (stream.Read(header.data(), kBlock)) {
    if (std::all_of(header.begin(), header.end(), [](char c) { return c == 0; })) break;
    unsigned checksum = 0;
    for (int i = 0; i < kBlock; ++i) {
      checksum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(header[i]);
    }
    if (ParseOctal(&header[148], 8) != static_cast<int64_t>(checksum)) {
      stream.Fail("bad header checksum");
    }
    const int64_t size = ParseOctal(&header[124], 12);
    if (size < 0) stream.Fail("bad size field");
    const char type = header[156];
    std::string path = Field(&header[0], 100);
    if (std::memcmp(&header[257], "ustar", 5) == 0 && header[345] != '\0') {
      path = Field(&header[345], 155) + "/" + path;
    }
    if (type == 'L' || type == 'x') {
      std::string data(static_cast<size_t>(size), '\0');
      if (!stream.Read(data.data(), size)) stream.Fail("truncated");
      stream.Skip(Padded(size) - size);
      long_name = type == 'L' ? Field(data.data(), data.size()) : PaxPath(data);
      continue;
    }
    if (!long_name.empty()) {
      path = long_name;
      long_name.clear();
    }
    const bool regular = type == '0' || type == '\0' || type == '7';
    if (regular && wanted(path, size)) {
      std::string content(static_cast<size_t>(size), '\0');
      if (size > 0 && !stream.Read(content.data(), size)) stream.Fail("truncated");
      stream.Skip(Padded(size) - size);
      on_content(path, std::move(content));
    } else {
      stream.Skip(Padded(size));
    }
  }
}

}  // namespace ft::fetch
