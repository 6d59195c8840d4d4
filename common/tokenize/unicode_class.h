// Unicode character classes and mappings the tokenizer components need, with the semantics of
// the Rust `tokenizers` library (Rust's char methods, Oniguruma's \s \p{L} \p{N}). The data is
// ICU's (libicu, Unicode 15 on Debian 12); the Basic Multilingual Plane is tabulated once.
#pragma once

#include <string>
#include <string_view>

namespace ft::tokenize {

enum CharClass : unsigned {
  kLetter = 1u << 0,          // general category L*
  kNumber = 1u << 1,          // N* (Rust's char::is_numeric, Oniguruma's \p{N})
  kWhiteSpace = 1u << 2,      // White_Space (Rust's char::is_whitespace, Oniguruma's \s)
  kAlphabetic = 1u << 3,      // Alphabetic
  kPunctuation = 1u << 4,     // P*
  kOther = 1u << 5,           // C* (Cc, Cf, Cs, Co, Cn)
  kMarkNonspacing = 1u << 6,  // Mn
  kMark = 1u << 7,            // M* (Mn, Mc, Me)
  kWord = 1u << 8,            // \w of Rust's regex crate: Alphabetic, M*, Nd, Pc, Join_Control
};

// The CharClass bits of `c`.
unsigned ClassOf(char32_t c);

inline bool IsLetter(char32_t c) { return ClassOf(c) & kLetter; }
inline bool IsNumber(char32_t c) { return ClassOf(c) & kNumber; }
inline bool IsWhiteSpace(char32_t c) { return ClassOf(c) & kWhiteSpace; }
// Rust's char::is_alphanumeric: Alphabetic or N*.
inline bool IsAlphanumeric(char32_t c) { return ClassOf(c) & (kAlphabetic | kNumber); }
inline bool IsWordChar(char32_t c) { return ClassOf(c) & kWord; }
// BERT's punctuation: ASCII punctuation (which includes symbols such as $ + < = > ^ ` | ~) or P*.
bool IsBertPunctuation(char32_t c);
// BERT's CJK ideograph ranges.
bool IsChineseChar(char32_t c);

// Appends Rust's char::to_lowercase(c) (the full, context-free mapping) as UTF-8.
void AppendLowercase(char32_t c, std::string& out);

enum class NormalForm { kNfc, kNfd, kNfkc, kNfkd };

// `text` in the given Unicode normal form.
std::string Normalize(std::string_view text, NormalForm form);

}  // namespace ft::tokenize
