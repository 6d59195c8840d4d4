// What a data file or folder is, for cache keys: its path, size, modification time and a hash of
// its bytes, so that a file replaced or edited in place (even keeping size and mtime) gets a new
// key. Standard library + POSIX only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace ft::train {

// A 64-bit hash of bytes: FNV-1a style over 8-byte words (and the tail bytes), then a finalizer.
// Fast enough to run over a 50 MB file at each job start (~20 ms); not cryptographic.
class ContentHash {
 public:
  // The same bytes give the same hash however they are cut into Add calls.
  void Add(const void* data, std::size_t size);
  // One whole 64-bit value (a size, a time), after the bytes added so far.
  void AddWord(uint64_t word);
  uint64_t Value() const;
  std::string Hex() const;

 private:
  void Mix(uint64_t word);
  void Flush();  // mixes in the pending bytes, if any

  uint64_t hash_ = 0xCBF29CE484222325ULL;
  uint64_t length_ = 0;
  uint64_t pending_ = 0;  // up to 7 bytes not yet mixed in
  int pending_bytes_ = 0;
};

// Files up to this size are hashed whole; larger ones by size, mtime and their first and last
// kIdentitySampleBytes.
inline constexpr uint64_t kIdentityFullHashLimit = uint64_t{1} << 30;
inline constexpr uint64_t kIdentitySampleBytes = uint64_t{1} << 20;

// A one-line JSON object describing `path`: {"path", "size", "mtime_ns", "content"} for a file;
// for a folder (aclImdb) {"path", "files", "listing"}, where listing hashes every regular file's
// relative path, size and mtime (not contents: tens of thousands of small files). Throws
// std::runtime_error when `path` cannot be read.
std::string FileIdentity(const std::string& path);

}  // namespace ft::train
