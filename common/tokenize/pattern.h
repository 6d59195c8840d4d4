// The `pattern` of a Split pre-tokenizer or a Replace normalizer: {"String": "..."} (a literal)
// or {"Regex": "..."} (Oniguruma syntax in the Rust library; compiled here with ICU's regular
// expressions, which have the look-ahead, \p{..} classes and (?i:..) groups these files use).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/tokenize/json_view.h"

namespace ft::tokenize {

using ByteRange = std::pair<std::size_t, std::size_t>;

class Pattern {
 public:
  static Pattern FromJson(const JsonView& node);
  static Pattern Literal(std::string text);
  static Pattern Regex(const std::string& regex, const JsonView& where);
  ~Pattern();
  Pattern(Pattern&&) noexcept;
  Pattern& operator=(Pattern&&) noexcept;

  // The non-overlapping matches in `text`, left to right, as byte ranges (empty ones dropped).
  std::vector<ByteRange> FindMatches(std::string_view text) const;

 private:
  Pattern() = default;
  std::string literal_;
  struct Compiled;
  std::unique_ptr<Compiled> regex_;
};

}  // namespace ft::tokenize
