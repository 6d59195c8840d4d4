// Short, safe excerpts of file contents for error messages: error messages reach clients, logs and
// job records, so they carry at most a few printable bytes of a file, never whole lines.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ft::data {

// Up to `max_bytes` of `text`, bytes outside printable ASCII shown as '?', "..." when cut.
std::string Excerpt(std::string_view text, std::size_t max_bytes = 32);

// "a", "b", "c" of excerpts (a, b, c unless `quoted`), at most `max_items`, then
// "... (N in all)".
std::string ExcerptList(const std::vector<std::string>& items, std::size_t max_items = 8,
                        bool quoted = true);

}  // namespace ft::data
