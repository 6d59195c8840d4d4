// UTF-8 helpers for the tokenizer: decoding code points (invalid bytes read as U+FFFD, one byte
// at a time, as Rust's and JavaScript's lossy decoders do) and encoding them back.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ft::tokenize {

inline constexpr char32_t kReplacementChar = 0xFFFD;

// Decodes the code point at text[pos] and advances pos past it.
char32_t NextCodePoint(std::string_view text, std::size_t& pos);

// Appends the UTF-8 encoding of `c`.
void AppendUtf8(char32_t c, std::string& out);

// Length in bytes of the UTF-8 sequence that starts with `lead` (1 for invalid leads).
inline std::size_t Utf8Length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if ((lead >> 5) == 0x6) return 2;
  if ((lead >> 4) == 0xE) return 3;
  if ((lead >> 3) == 0x1E) return 4;
  return 1;
}

// True when every byte is ASCII.
bool IsAscii(std::string_view text);

}  // namespace ft::tokenize
