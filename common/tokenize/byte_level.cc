#include "common/tokenize/byte_level.h"

#include <array>

#include "common/tokenize/unicode_class.h"
#include "common/tokenize/utf8.h"

namespace ft::tokenize {
namespace {

enum Kind { kKindLetter, kKindNumber, kKindSpace, kKindOther };

Kind KindOf(char32_t c) {
  const unsigned bits = ClassOf(c);
  if (bits & kRegexLetter) return kKindLetter;
  if (bits & kRegexNumber) return kKindNumber;
  if (bits & kWhiteSpace) return kKindSpace;
  return kKindOther;
}

// The kind of the code point at pos and where the next one starts.
Kind KindAt(std::string_view text, std::size_t pos, std::size_t& next) {
  next = pos;
  return KindOf(NextCodePoint(text, next));
}

// Length of a contraction ('s 't 're 've 'm 'll 'd, case-sensitive) at text[pos] == '\'', or 0.
std::size_t ContractionLength(std::string_view text, std::size_t pos) {
  const auto at = [&](std::size_t i) { return pos + i < text.size() ? text[pos + i] : '\0'; };
  const char a = at(1);
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  const char b = at(2);
  if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  return 0;
}

// End of the run of code points of kind `kind` (or, for kKindOther, of neither letter, number
// nor space) that starts at pos.
std::size_t RunEnd(std::string_view text, std::size_t pos, Kind kind) {
  while (pos < text.size()) {
    std::size_t next;
    if (KindAt(text, pos, next) != kind) break;
    pos = next;
  }
  return pos;
}

std::array<std::string, 256> BuildByteChars() {
  std::array<std::string, 256> chars;
  int extra = 0;
  for (int b = 0; b < 256; ++b) {
    const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
    AppendUtf8(static_cast<char32_t>(printable ? b : 256 + extra++), chars[b]);
  }
  return chars;
}

}  // namespace

std::vector<ByteRange> Gpt2Split(std::string_view text) {
  std::vector<ByteRange> ranges;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t start = pos;
    if (text[pos] == '\'') {
      const std::size_t length = ContractionLength(text, pos);
      if (length > 0) {
        ranges.emplace_back(start, start + length);
        pos += length;
        continue;
      }
    }
    // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`
    std::size_t body = pos + (text[pos] == ' ' ? 1 : 0);
    if (body < text.size()) {
      std::size_t next;
      const Kind kind = KindAt(text, body, next);
      if (kind != kKindSpace) {
        pos = RunEnd(text, next, kind);
        ranges.emplace_back(start, pos);
        continue;
      }
    }
    // `\s+(?!\S)|\s+`: the whitespace run, less its last character when a non-space follows
    // (that one then starts the next match), unless the run is a single character.
    std::size_t end = pos;
    std::size_t last_start = pos;
    while (end < text.size()) {
      std::size_t next;
      if (KindAt(text, end, next) != kKindSpace) break;
      last_start = end;
      end = next;
    }
    if (end == pos) {  // not reached: every code point is one of the four kinds
      end = pos + Utf8Length(static_cast<unsigned char>(text[pos]));
    } else if (end < text.size() && last_start > pos) {
      end = last_start;
    }
    ranges.emplace_back(start, end);
    pos = end;
  }
  return ranges;
}

const std::string& ByteLevelChar(unsigned char byte) {
  static const std::array<std::string, 256> chars = BuildByteChars();
  return chars[byte];
}

void AppendByteLevel(std::string_view bytes, std::string& out) {
  for (const char byte : bytes) out += ByteLevelChar(static_cast<unsigned char>(byte));
}

}  // namespace ft::tokenize
