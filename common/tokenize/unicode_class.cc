#include "common/tokenize/unicode_class.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/tokenize/utf8.h"

namespace ft::tokenize {
namespace {

struct CodePointRange {
  char32_t first, last;
};
struct LowercaseRun {
  char32_t first, last;
  int stride, delta;
};

#include "common/tokenize/rust_char_tables.inc"

constexpr char32_t kCodePoints = 0x110000;
constexpr unsigned kBlockBits = 8;
constexpr char32_t kBlockSize = 1u << kBlockBits;

const icu::Normalizer2& NormalizerFor(NormalForm form) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* normalizer = nullptr;
  switch (form) {
    case NormalForm::kNfc:
      normalizer = icu::Normalizer2::getNFCInstance(status);
      break;
    case NormalForm::kNfd:
      normalizer = icu::Normalizer2::getNFDInstance(status);
      break;
    case NormalForm::kNfkc:
      normalizer = icu::Normalizer2::getNFKCInstance(status);
      break;
    case NormalForm::kNfkd:
      normalizer = icu::Normalizer2::getNFKDInstance(status);
      break;
  }
  if (U_FAILURE(status) || normalizer == nullptr) {
    throw std::runtime_error(std::string("ICU normalizer unavailable: ") + u_errorName(status));
  }
  return *normalizer;
}

// Assigned after Unicode 9.0 (the version of the Rust library's normalization crate, which
// treats such code points as unassigned: no decomposition, combining class 0) and not inert for
// one of ICU's normalizers.
bool NormalizationOpaque(char32_t c) {
  UVersionInfo age;
  u_charAge(static_cast<UChar32>(c), age);
  if (age[0] < 9 || (age[0] == 9 && age[1] == 0)) return false;  // also unassigned (0.0)
  for (const NormalForm form :
       {NormalForm::kNfc, NormalForm::kNfd, NormalForm::kNfkc, NormalForm::kNfkd}) {
    if (!NormalizerFor(form).isInert(static_cast<UChar32>(c))) return true;
  }
  return false;
}

// Two-stage table of the CharClass bits: blocks of 256 code points, identical blocks shared.
struct ClassTable {
  std::vector<uint16_t> block_of;  // kCodePoints >> kBlockBits entries
  std::vector<uint16_t> bits;      // the distinct blocks, kBlockSize entries each

  ClassTable() {
    std::vector<uint16_t> all(kCodePoints);
    const auto mark = [&](const auto& ranges, unsigned bit) {
      for (const CodePointRange& range : ranges) {
        for (char32_t c = range.first; c <= range.last; ++c) all[c] |= static_cast<uint16_t>(bit);
      }
    };
    mark(kWhiteSpaceRanges, kWhiteSpace);
    mark(kNumericRanges, kNumeric);
    mark(kBertPunctuationRanges, kBertPunctuation);
    mark(kCleanTextRemovedRanges, kCleanTextRemoved);
    mark(kNonspacingMarkRanges, kNonspacingMark);
    mark(kCombiningMarkRanges, kCombiningMark);
    mark(kWordRanges, kWord);
    mark(kRegexLetterRanges, kRegexLetter);
    mark(kRegexNumberRanges, kRegexNumber);
    mark(kRegexWordRanges, kRegexWord);
    for (const LowercaseRun& run : kLowercaseRuns) {
      for (char32_t c = run.first; c <= run.last; c += run.stride) all[c] |= kHasLowercase;
    }
    all[0x130] |= kHasLowercase;
    for (char32_t c = 0x80; c < kCodePoints; ++c) {
      if (NormalizationOpaque(c)) all[c] |= kNormalizationOpaque;
    }
    block_of.resize(kCodePoints >> kBlockBits);
    std::unordered_map<std::string, uint16_t> index_of;  // a block's bytes -> its index
    for (char32_t block = 0; block < block_of.size(); ++block) {
      const uint16_t* begin = all.data() + block * kBlockSize;
      const std::string key(reinterpret_cast<const char*>(begin), kBlockSize * sizeof(uint16_t));
      const auto [it, inserted] =
          index_of.emplace(key, static_cast<uint16_t>(bits.size() / kBlockSize));
      if (inserted) bits.insert(bits.end(), begin, begin + kBlockSize);
      block_of[block] = it->second;
    }
  }
};

const ClassTable& Table() {
  static const ClassTable table;
  return table;
}

void AppendRegexCodePoint(char32_t c, std::string& out) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "\\x{%X}", static_cast<unsigned>(c));
  out += buffer;
}

}  // namespace

unsigned ClassOf(char32_t c) {
  if (c >= kCodePoints) return 0;
  const ClassTable& table = Table();
  return table.bits[(table.block_of[c >> kBlockBits] << kBlockBits) | (c & (kBlockSize - 1))];
}

bool IsChineseChar(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
         (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

std::string RegexSetOf(unsigned mask, bool negate) {
  std::string out = negate ? "[^" : "[";
  for (char32_t c = 0; c < kCodePoints;) {
    if (!(ClassOf(c) & mask)) {
      ++c;
      continue;
    }
    const char32_t first = c;
    while (c < kCodePoints && (ClassOf(c) & mask)) ++c;
    AppendRegexCodePoint(first, out);
    if (c - 1 > first) {
      out.push_back('-');
      AppendRegexCodePoint(c - 1, out);
    }
  }
  out.push_back(']');
  return out;
}

void AppendLowercase(char32_t c, std::string& out) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c));
    return;
  }
  if (!(ClassOf(c) & kHasLowercase)) {
    AppendUtf8(c, out);
    return;
  }
  // The only lowercase mapping longer than one code point.
  if (c == 0x130) {
    out += "i\xCC\x87";
    return;
  }
  // The last run that starts at or before c; runs do not interleave.
  const auto* run =
      std::upper_bound(std::begin(kLowercaseRuns), std::end(kLowercaseRuns), c,
                       [](char32_t value, const LowercaseRun& r) { return value < r.first; }) -
      1;
  AppendUtf8(static_cast<char32_t>(static_cast<int>(c) + run->delta), out);
}

std::string Normalize(std::string_view text, NormalForm form) {
  if (IsAscii(text)) return std::string(text);
  const icu::Normalizer2& normalizer = NormalizerFor(form);
  std::string result;
  const auto normalize_piece = [&](std::string_view piece) {
    if (piece.empty()) return;
    const icu::UnicodeString input = icu::UnicodeString::fromUTF8(
        icu::StringPiece(piece.data(), static_cast<int32_t>(piece.size())));
    UErrorCode status = U_ZERO_ERROR;
    const icu::UnicodeString output = normalizer.normalize(input, status);
    if (U_FAILURE(status)) {
      throw std::runtime_error(std::string("Unicode normalization failed: ") + u_errorName(status));
    }
    output.toUTF8String(result);
  };
  // Code points the Rust library's normalizer does not know are kept and separate the pieces.
  std::size_t piece_start = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t start = pos;
    const char32_t c = NextCodePoint(text, pos);
    if (c < 0x80 || !(ClassOf(c) & kNormalizationOpaque)) continue;
    normalize_piece(text.substr(piece_start, start - piece_start));
    result.append(text, start, pos - start);
    piece_start = pos;
  }
  normalize_piece(text.substr(piece_start));
  return result;
}

}  // namespace ft::tokenize
