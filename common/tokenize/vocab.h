// A model's vocabulary: token -> id, read from tokenizer.json's `vocab` object.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/tokenize/json_view.h"

namespace ft::tokenize {

class Vocab {
 public:
  static Vocab FromJson(const JsonView& node);
  Vocab() = default;
  Vocab(Vocab&&) noexcept = default;
  Vocab& operator=(Vocab&&) noexcept = default;
  Vocab(const Vocab&) = delete;
  Vocab& operator=(const Vocab&) = delete;

  std::optional<int64_t> Find(std::string_view token) const {
    const auto found = ids_.find(token);
    if (found == ids_.end()) return std::nullopt;
    return found->second;
  }
  int64_t size() const { return max_id_ + 1; }
  const std::string& Token(int64_t id) const;  // "" when unknown

 private:
  std::unordered_map<std::string_view, int64_t> ids_;  // views into tokens_
  std::unordered_map<int64_t, std::string> tokens_;
  int64_t max_id_ = -1;
};

}  // namespace ft::tokenize
