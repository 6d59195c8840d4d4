#include "server/housekeeping/disk_usage.h"

#include <filesystem>

namespace ft::housekeeping {

uint64_t DiskUsage(const std::string& path, uint64_t stop_after) {
  namespace fs = std::filesystem;
  std::error_code error;
  const fs::file_status status = fs::symlink_status(path, error);
  if (error || !fs::exists(status)) return 0;
  if (fs::is_regular_file(status)) {
    const uintmax_t size = fs::file_size(path, error);
    return error ? 0 : size;
  }
  if (!fs::is_directory(status)) return 0;
  uint64_t total = 0;
  // Entries that vanish or cannot be read while walking are skipped, not fatal.
  for (fs::recursive_directory_iterator
           it(path, fs::directory_options::skip_permission_denied, error),
       end;
       !error && it != end; it.increment(error)) {
    if (it->is_symlink(error)) continue;
    if (it->is_regular_file(error)) {
      const uintmax_t size = it->file_size(error);
      if (!error) total += size;
      error.clear();
      if (stop_after > 0 && total > stop_after) break;
    }
  }
  return total;
}

}  // namespace ft::housekeeping
