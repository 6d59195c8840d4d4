#include "common/tokenize/added_tokens.h"

#include <algorithm>

#include "common/tokenize/unicode_class.h"
#include "common/tokenize/utf8.h"

namespace ft::tokenize {
namespace {

// The code point that ends text[0, end).
char32_t LastCodePoint(std::string_view text, std::size_t end) {
  std::size_t start = end - 1;
  while (start > 0 && (static_cast<unsigned char>(text[start]) >> 6) == 0x2) --start;
  return NextCodePoint(text, start);
}

// Start of the whitespace run that ends at `end`.
std::size_t WhitespaceRunStart(std::string_view text, std::size_t end) {
  while (end > 0) {
    std::size_t start = end - 1;
    while (start > 0 && (static_cast<unsigned char>(text[start]) >> 6) == 0x2) --start;
    std::size_t pos = start;
    if (!IsWhiteSpace(NextCodePoint(text, pos))) break;
    end = start;
  }
  return end;
}

// End of the whitespace run that starts at `begin`.
std::size_t WhitespaceRunEnd(std::string_view text, std::size_t begin) {
  while (begin < text.size()) {
    std::size_t pos = begin;
    if (!IsWhiteSpace(NextCodePoint(text, pos))) break;
    begin = pos;
  }
  return begin;
}

}  // namespace

AddedTokens AddedTokens::FromJson(const JsonView& node, const Normalizer* normalizer) {
  AddedTokens added;
  for (auto& set : added.by_first_byte_) set.resize(256);
  if (node.is_null()) return added;
  node.ExpectArray();
  for (std::size_t i = 0; i < node.Size(); ++i) {
    const JsonView entry = node.At(i);
    AddedToken token;
    token.content = entry["content"].String();
    token.id = entry["id"].Int();
    if (token.id < 0) entry["id"].Fail("must not be negative");
    token.single_word = entry["single_word"].Bool(false);
    token.lstrip = entry["lstrip"].Bool(false);
    token.rstrip = entry["rstrip"].Bool(false);
    token.special = entry["special"].Bool(false);
    token.normalized = entry["normalized"].Bool(!token.special);
    if (token.content.empty()) entry["content"].Fail("must not be empty");
    std::string pattern = token.content;
    if (token.normalized && normalizer != nullptr) normalizer->Normalize(pattern);
    if (!pattern.empty()) {
      added.by_first_byte_[token.normalized ? 1 : 0][static_cast<unsigned char>(pattern[0])]
          .push_back({pattern, added.tokens_.size()});
    }
    added.tokens_.push_back(std::move(token));
  }
  for (auto& set : added.by_first_byte_) {
    for (auto& candidates : set) {
      std::stable_sort(candidates.begin(), candidates.end(),
                       [](const Candidate& a, const Candidate& b) {
                         return a.pattern.size() > b.pattern.size();
                       });
    }
  }
  return added;
}

void AddedTokens::Split(std::string_view text, bool at_start, bool normalized_set,
                        std::vector<Segment>& out) const {
  const auto& table = by_first_byte_[normalized_set ? 1 : 0];
  std::size_t emitted = 0;  // text[0, emitted) is in `out`
  std::size_t pos = 0;
  while (pos < text.size()) {
    const Candidate* match = nullptr;
    for (const Candidate& candidate : table[static_cast<unsigned char>(text[pos])]) {
      if (text.compare(pos, candidate.pattern.size(), candidate.pattern) == 0) {
        match = &candidate;
        break;
      }
    }
    if (match == nullptr) {
      ++pos;
      continue;
    }
    const AddedToken& token = tokens_[match->token];
    std::size_t begin = pos;
    std::size_t end = pos + match->pattern.size();
    pos = end;
    if (token.single_word) {
      const bool word_before = begin > 0 && IsWordChar(LastCodePoint(text, begin));
      std::size_t next = end;
      const bool word_after = end < text.size() && IsWordChar(NextCodePoint(text, next));
      if (word_before || word_after) continue;
    }
    if (token.lstrip) begin = std::max(WhitespaceRunStart(text, begin), emitted);
    if (token.rstrip) end = WhitespaceRunEnd(text, end);
    if (begin > emitted) {
      out.push_back(
          {std::string(text.substr(emitted, begin - emitted)), -1, at_start && emitted == 0});
    }
    out.push_back({std::string(text.substr(begin, end - begin)), token.id, at_start && begin == 0});
    emitted = end;
    pos = std::max(pos, end);
  }
  if (emitted < text.size()) {
    out.push_back({std::string(text.substr(emitted)), -1, at_start && emitted == 0});
  }
}

}  // namespace ft::tokenize
