#include "tokenize/unicode_class.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <vector>

#include "tokenize/utf8.h"

namespace ft::tokenize {
namespace {

unsigned ComputeClass(char32_t c) {
  const UChar32 u = static_cast<UChar32>(c);
  const int8_t type = u_charType(u);
  const uint32_t mask = U_MASK(type);
  unsigned bits = 0;
  if (mask & U_GC_L_MASK) bits |= kLetter;
  if (mask & U_GC_N_MASK) bits |= kNumber;
  if (mask & U_GC_P_MASK) bits |= kPunctuation;
  if (mask & U_GC_C_MASK) bits |= kOther;
  if (mask & U_GC_MN_MASK) bits |= kMarkNonspacing;
  if (mask & U_GC_M_MASK) bits |= kMark;
  if (u_hasBinaryProperty(u, UCHAR_WHITE_SPACE)) bits |= kWhiteSpace;
  if (u_hasBinaryProperty(u, UCHAR_ALPHABETIC)) bits |= kAlphabetic;
  if ((bits & (kAlphabetic | kMark)) || (mask & (U_GC_ND_MASK | U_GC_PC_MASK)) ||
      u_hasBinaryProperty(u, UCHAR_JOIN_CONTROL)) {
    bits |= kWord;
  }
  return bits;
}

const std::vector<uint16_t>& BmpTable() {
  static const std::vector<uint16_t> table = [] {
    std::vector<uint16_t> bits(0x10000);
    for (char32_t c = 0; c < 0x10000; ++c) bits[c] = static_cast<uint16_t>(ComputeClass(c));
    return bits;
  }();
  return table;
}

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

}  // namespace

unsigned ClassOf(char32_t c) {
  if (c < 0x10000) return BmpTable()[c];
  return ComputeClass(c);
}

bool IsBertPunctuation(char32_t c) {
  if (c < 0x80) {
    return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) ||
           (c >= 123 && c <= 126);
  }
  return ClassOf(c) & kPunctuation;
}

bool IsChineseChar(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
         (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

void AppendLowercase(char32_t c, std::string& out) {
  if (c < 0x80) {
    out.push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c));
    return;
  }
  // The only unconditional lowercase mapping of SpecialCasing.txt longer than one code point.
  if (c == 0x130) {
    out += "i\xCC\x87";
    return;
  }
  AppendUtf8(static_cast<char32_t>(u_tolower(static_cast<UChar32>(c))), out);
}

std::string Normalize(std::string_view text, NormalForm form) {
  if (IsAscii(text)) return std::string(text);
  const icu::UnicodeString input = icu::UnicodeString::fromUTF8(
      icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  UErrorCode status = U_ZERO_ERROR;
  const icu::UnicodeString output = NormalizerFor(form).normalize(input, status);
  if (U_FAILURE(status)) {
    throw std::runtime_error(std::string("Unicode normalization failed: ") + u_errorName(status));
  }
  std::string result;
  output.toUTF8String(result);
  return result;
}

}  // namespace ft::tokenize
