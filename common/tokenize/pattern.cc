#include "common/tokenize/pattern.h"

#include <unicode/regex.h>
#include <unicode/unistr.h>

#include "common/tokenize/unicode_class.h"
#include "common/tokenize/utf8.h"

namespace ft::tokenize {

struct Pattern::Compiled {
  std::unique_ptr<icu::RegexPattern> pattern;
};

Pattern::~Pattern() = default;
Pattern::Pattern(Pattern&&) noexcept = default;
Pattern& Pattern::operator=(Pattern&&) noexcept = default;

Pattern Pattern::Literal(std::string text) {
  Pattern pattern;
  pattern.literal_ = std::move(text);
  return pattern;
}

namespace {

// The classes of Oniguruma (the Rust library's regex engine) that tokenizer.json files use, as
// explicit sets from the library's own tables, inside brackets too: \s (White_Space; ICU's is
// only [\t\n\f\r\p{Z}]), \w (which has all of N* but not the joiners), \p{L} and \p{N} (of
// Oniguruma's Unicode version, not ICU's). Other escapes go to ICU unchanged.
std::string WithOnigurumaClasses(const std::string& regex) {
  std::string out;
  out.reserve(regex.size() + 16);
  for (std::size_t i = 0; i < regex.size(); ++i) {
    if (regex[i] != '\\' || i + 1 == regex.size()) {
      out.push_back(regex[i]);
      continue;
    }
    const char next = regex[++i];
    unsigned mask = 0;
    if (next == 's' || next == 'S') {
      mask = kWhiteSpace;
    } else if (next == 'w' || next == 'W') {
      mask = kRegexWord;
    } else if (next == 'p' || next == 'P') {
      const std::string_view rest = std::string_view(regex).substr(i + 1);
      for (const auto& [name, bit] : {std::pair<std::string_view, unsigned>{"{L}", kRegexLetter},
                                      {"L", kRegexLetter},
                                      {"{N}", kRegexNumber},
                                      {"N", kRegexNumber}}) {
        if (rest.substr(0, name.size()) == name) {
          mask = bit;
          i += name.size();
          break;
        }
      }
    }
    if (mask == 0) {
      out.push_back('\\');
      out.push_back(next);
      continue;
    }
    out += RegexSetOf(mask, /*negate=*/next == 'S' || next == 'W' || next == 'P');
  }
  return out;
}

}  // namespace

Pattern Pattern::Regex(const std::string& regex, const JsonView& where) {
  Pattern pattern;
  UParseError parse_error{};
  UErrorCode status = U_ZERO_ERROR;
  std::unique_ptr<icu::RegexPattern> compiled(icu::RegexPattern::compile(
      icu::UnicodeString::fromUTF8(WithOnigurumaClasses(regex)), 0, parse_error, status));
  if (U_FAILURE(status)) {
    where.Fail("is not a regular expression we can compile (" + std::string(u_errorName(status)) +
               " at offset " + std::to_string(parse_error.offset) + ")");
  }
  pattern.regex_ = std::make_unique<Compiled>();
  pattern.regex_->pattern = std::move(compiled);
  return pattern;
}

Pattern Pattern::FromJson(const JsonView& node) {
  node.ExpectObject();
  if (node.Has("String")) return Literal(node["String"].String());
  if (node.Has("Regex")) return Regex(node["Regex"].String(), node["Regex"]);
  node.Fail("must hold \"String\" or \"Regex\"");
}

std::vector<ByteRange> Pattern::FindMatches(std::string_view text) const {
  std::vector<ByteRange> matches;
  if (!regex_) {
    if (literal_.empty()) return matches;
    std::size_t pos = 0;
    while ((pos = text.find(literal_, pos)) != std::string_view::npos) {
      matches.emplace_back(pos, pos + literal_.size());
      pos += literal_.size();
    }
    return matches;
  }
  // UTF-16 for ICU, with the byte offset of every UTF-16 index.
  icu::UnicodeString utf16;
  std::vector<std::size_t> byte_at;
  byte_at.reserve(text.size() + 1);
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t start = pos;
    const char32_t c = NextCodePoint(text, pos);
    utf16.append(static_cast<UChar32>(c));
    byte_at.push_back(start);
    if (c >= 0x10000) byte_at.push_back(start);
  }
  byte_at.push_back(text.size());
  UErrorCode status = U_ZERO_ERROR;
  std::unique_ptr<icu::RegexMatcher> matcher(regex_->pattern->matcher(utf16, status));
  if (U_FAILURE(status)) return matches;
  while (matcher->find(status) && U_SUCCESS(status)) {
    const int32_t begin = matcher->start(status);
    const int32_t end = matcher->end(status);
    if (end > begin) matches.emplace_back(byte_at[begin], byte_at[end]);
  }
  return matches;
}

}  // namespace ft::tokenize
