// Bytes used by a file or a folder tree (regular files' sizes; symlinks are not followed).
#pragma once

#include <cstdint>
#include <string>

namespace ft::housekeeping {

// 0 for a path that does not exist. Stops counting once past `stop_after` (0: never stops).
uint64_t DiskUsage(const std::string& path, uint64_t stop_after = 0);

}  // namespace ft::housekeeping
