// The token cache: a tokenized split stored on disk once per (data file, tokenizer, settings), so
// that later jobs on the same data map it instead of tokenizing again. One file per split,
// <dir>/<16 hex digits>.tokens, named by a hash of its key; the key itself is inside the file and
// compared on load, so a hash collision is a miss, never wrong data.
//
// File layout (little-endian, as the CPU writes it; version 2):
//   0  char[8]  magic "FTTOKENS"
//   8  u32      format version
//   12 u32      id width in bytes (2 or 4)
//   16 u64      examples
//   24 u64      total tokens
//   32 u64      metadata size (JSON: key, split name, source file, label names, notes)
//   40 u64      checksum of every byte after the 64-byte header
//   48 u64      file size
//   56 u64      1 for a causal-LM split (target mask and prompt lengths follow), else 0
//   64          metadata, zero-padded to a multiple of 8
//               offsets: (examples + 1) x u64, from 0 to total tokens
//               causal LM: prompt tokens, examples x i64
//               classification: labels, examples x i32, zero-padded to a multiple of 8
//               ids: total tokens x width
//               causal LM: target mask, total tokens x u16 (0 or 1; same offsets as the ids)
// Written atomically (a uniquely named temporary file renamed over the final one, so two workers
// building the same entry never mix their bytes) and read with mmap. A file that is truncated,
// fails its checksum or does not hold what it claims is ignored with a warning, removed, and the
// split is tokenized again. Each use sets the file's modification time, so that ftd can keep the
// folder within its budget by removing the least recently used entries
// (server/housekeeping/token_cache_trim.h); a mapped entry outlives its removal.
// Standard library + POSIX only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "worker/data/job_data.h"

namespace ft::train {

inline constexpr uint32_t kTokenCacheVersion = 2;

struct CachedSplit {
  // input_ids (and a causal-LM split's target_mask) borrowed from the mapping
  TokenizedSplit split;
  std::vector<std::string> label_names;
};

class TokenCache {
 public:
  // An empty `dir` disables the cache (Load misses, Store does nothing).
  explicit TokenCache(std::string dir) : dir_(std::move(dir)) {}

  bool enabled() const { return !dir_.empty(); }
  const std::string& dir() const { return dir_; }
  std::string PathFor(const std::string& key) const;

  // The split stored under `key`, memory-mapped; nullopt when there is none. A damaged or
  // mismatching file adds a warning, is removed, and is a miss.
  std::optional<CachedSplit> Load(const std::string& key, std::vector<std::string>& warnings) const;

  // Stores `split` under `key`. Returns false (with a warning) when it cannot be written; the
  // cache is an optimization, never a reason to fail a job.
  bool Store(const std::string& key, const TokenizedSplit& split,
             const std::vector<std::string>& label_names,
             std::vector<std::string>& warnings) const;

 private:
  std::string dir_;
};

}  // namespace ft::train
