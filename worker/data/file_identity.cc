#include "worker/data/file_identity.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <utility>
#include <vector>

namespace ft::train {
namespace {

constexpr uint64_t kPrime = 0x100000001B3ULL;

uint64_t Finalize(uint64_t value) {
  value ^= value >> 33;
  value *= 0xFF51AFD7ED558CCDULL;
  value ^= value >> 33;
  value *= 0xC4CEB9FE1A85EC53ULL;
  return value ^ (value >> 33);
}

int64_t MtimeNs(const struct stat& info) {
  return static_cast<int64_t>(info.st_mtim.tv_sec) * 1000000000 + info.st_mtim.tv_nsec;
}

// Hashes [offset, offset + size) of an open file.
void HashRange(int fd, const std::string& path, uint64_t offset, uint64_t size,
               ContentHash& hash) {
  std::vector<char> buffer(1 << 20);
  while (size > 0) {
    const std::size_t want = static_cast<std::size_t>(std::min<uint64_t>(size, buffer.size()));
    const ssize_t got = pread(fd, buffer.data(), want, static_cast<off_t>(offset));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) throw std::runtime_error("cannot read " + path + ": " + std::strerror(errno));
    hash.Add(buffer.data(), static_cast<std::size_t>(got));
    offset += static_cast<uint64_t>(got);
    size -= static_cast<uint64_t>(got);
  }
}

std::string FolderIdentity(const std::filesystem::path& folder) {
  std::vector<std::pair<std::string, std::pair<uint64_t, int64_t>>> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(folder)) {
    if (!entry.is_regular_file()) continue;
    struct stat info {};
    if (stat(entry.path().c_str(), &info) != 0) continue;
    files.push_back({entry.path().lexically_relative(folder).string(),
                     {static_cast<uint64_t>(info.st_size), MtimeNs(info)}});
  }
  std::sort(files.begin(), files.end());
  ContentHash listing;
  for (const auto& [name, size_and_time] : files) {
    listing.Add(name.data(), name.size());
    listing.AddWord(size_and_time.first);
    listing.AddWord(static_cast<uint64_t>(size_and_time.second));
  }
  nlohmann::ordered_json json;
  json["path"] = folder.string();
  json["files"] = files.size();
  json["listing"] = listing.Hex();
  return json.dump();
}

}  // namespace

void ContentHash::Mix(uint64_t word) {
  hash_ = (hash_ ^ word) * kPrime;
  hash_ ^= hash_ >> 29;
}

void ContentHash::Flush() {
  if (pending_bytes_ == 0) return;
  // The count goes in too, so "a" and "a\0" differ.
  Mix(pending_ ^ (static_cast<uint64_t>(pending_bytes_) << 56));
  pending_ = 0;
  pending_bytes_ = 0;
}

void ContentHash::AddWord(uint64_t word) {
  Flush();
  Mix(word);
  length_ += 8;
}

void ContentHash::Add(const void* data, std::size_t size) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  std::size_t i = 0;
  // Streaming: the same bytes give the same hash however they are cut into calls.
  while (i < size && pending_bytes_ != 0) {
    pending_ |= uint64_t{bytes[i++]} << (8 * pending_bytes_);
    if (++pending_bytes_ == 8) {
      Mix(pending_);
      pending_ = 0;
      pending_bytes_ = 0;
    }
  }
  for (; i + 8 <= size; i += 8) {
    uint64_t word;
    std::memcpy(&word, bytes + i, 8);
    Mix(word);
  }
  for (; i < size; ++i) pending_ |= uint64_t{bytes[i]} << (8 * pending_bytes_++);
  length_ += size;
}

uint64_t ContentHash::Value() const {
  ContentHash copy = *this;
  copy.Flush();
  return Finalize(copy.hash_ ^ copy.length_);
}

std::string ContentHash::Hex() const {
  char text[17];
  std::snprintf(text, sizeof(text), "%016llx", static_cast<unsigned long long>(Value()));
  return text;
}

std::string FileIdentity(const std::string& path) {
  const std::filesystem::path absolute = std::filesystem::absolute(path).lexically_normal();
  struct stat info {};
  if (stat(absolute.c_str(), &info) != 0) {
    throw std::runtime_error("cannot stat " + absolute.string() + ": " + std::strerror(errno));
  }
  if (S_ISDIR(info.st_mode)) return FolderIdentity(absolute);

  const int fd = open(absolute.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    throw std::runtime_error("cannot open " + absolute.string() + ": " + std::strerror(errno));
  }
  const auto size = static_cast<uint64_t>(info.st_size);
  ContentHash content;
  std::string how = "whole";
  try {
    if (size <= kIdentityFullHashLimit) {
      HashRange(fd, absolute.string(), 0, size, content);
    } else {
      how = "head+tail";
      HashRange(fd, absolute.string(), 0, kIdentitySampleBytes, content);
      HashRange(fd, absolute.string(), size - kIdentitySampleBytes, kIdentitySampleBytes, content);
    }
  } catch (...) {
    close(fd);
    throw;
  }
  close(fd);
  nlohmann::ordered_json json;
  json["path"] = absolute.string();
  json["size"] = size;
  json["mtime_ns"] = MtimeNs(info);
  json["content"] = how + ":" + content.Hex();
  return json.dump();
}

}  // namespace ft::train
