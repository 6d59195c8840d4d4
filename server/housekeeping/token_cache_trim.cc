#include "server/housekeeping/token_cache_trim.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <system_error>
#include <vector>

#include "spdlog/spdlog.h"

namespace ft::housekeeping {
namespace fs = std::filesystem;
namespace {

constexpr auto kStaleTemporary = std::chrono::hours(1);

struct Entry {
  fs::path path;
  fs::file_time_type last_use;
  uint64_t bytes;
};

// An entry is "<16 hex digits>.tokens"; a writer's temporary is that name + ".tmp.<pid>.<n>".
bool IsEntryName(const std::string& name) {
  constexpr std::size_t kHexDigits = 16;
  return name.size() == kHexDigits + 7 && name.compare(kHexDigits, 7, ".tokens") == 0 &&
         std::all_of(name.begin(), name.begin() + kHexDigits,
                     [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
}

bool IsTemporaryName(const std::string& name) {
  const std::size_t tmp = name.find(".tmp.");
  return tmp != std::string::npos && IsEntryName(name.substr(0, tmp));
}

bool Remove(const fs::path& path) {
  std::error_code error;
  if (fs::remove(path, error) || !error) return true;  // gone already: someone else removed it
  spdlog::warn("token cache: cannot remove {}: {}", path.string(), error.message());
  return false;
}

}  // namespace

TokenCacheTrim TrimTokenCache(const std::string& dir, uint64_t budget_bytes) {
  TokenCacheTrim result;
  std::vector<Entry> entries;
  std::error_code error;
  const auto now = fs::file_time_type::clock::now();
  for (fs::directory_iterator it(dir, error), end; !error && it != end; it.increment(error)) {
    std::error_code stat_error;
    if (!it->is_regular_file(stat_error)) continue;
    const std::string name = it->path().filename().string();
    const uint64_t bytes = it->file_size(stat_error);
    const fs::file_time_type modified = it->last_write_time(stat_error);
    if (stat_error) continue;  // removed meanwhile
    if (IsEntryName(name)) {
      entries.push_back({it->path(), modified, bytes});
    } else if (IsTemporaryName(name) && now - modified > kStaleTemporary && Remove(it->path())) {
      ++result.temporaries_removed;
      result.bytes_freed += bytes;
    }
  }
  for (const Entry& entry : entries) result.bytes_kept += entry.bytes;
  if (budget_bytes == 0) return result;
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.last_use < b.last_use; });
  for (const Entry& entry : entries) {
    if (result.bytes_kept <= budget_bytes) break;
    if (!Remove(entry.path)) continue;
    ++result.entries_removed;
    result.bytes_freed += entry.bytes;
    result.bytes_kept -= entry.bytes;
  }
  return result;
}

}  // namespace ft::housekeeping
