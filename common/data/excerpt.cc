#include "common/data/excerpt.h"

namespace ft::data {

std::string Excerpt(std::string_view text, std::size_t max_bytes) {
  std::string out;
  for (std::size_t i = 0; i < text.size() && i < max_bytes; ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    out += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '?';
  }
  if (text.size() > max_bytes) out += "...";
  return out;
}

std::string ExcerptList(const std::vector<std::string>& items, std::size_t max_items,
                        bool quoted) {
  std::string out;
  for (std::size_t i = 0; i < items.size() && i < max_items; ++i) {
    if (!out.empty()) out += ", ";
    out += quoted ? '"' + Excerpt(items[i]) + '"' : Excerpt(items[i]);
  }
  if (items.size() > max_items) out += ", ... (" + std::to_string(items.size()) + " in all)";
  return out.empty() ? "(none)" : out;
}

}  // namespace ft::data
