// Keeps the token cache (<home>/cache/tokens, written by the workers: worker/data/token_cache.h)
// within a byte budget. Entries go least recently used first: a worker sets an entry's
// modification time whenever a job uses it, so the time is its last use. Removing an entry that
// a running job has mapped is safe (the mapping outlives the name); the next job on that data
// tokenizes again. Temporary files that a crashed writer left behind go once they are an hour
// old. Nothing else in the folder is touched.
#pragma once

#include <cstdint>
#include <string>

namespace ft::housekeeping {

struct TokenCacheTrim {
  int entries_removed = 0;
  int temporaries_removed = 0;
  uint64_t bytes_freed = 0;
  uint64_t bytes_kept = 0;  // the entries left
};

// budget_bytes 0: no budget (stale temporaries still go). A folder that does not exist is empty.
TokenCacheTrim TrimTokenCache(const std::string& dir, uint64_t budget_bytes);

}  // namespace ft::housekeeping
