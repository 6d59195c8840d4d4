#include "client/lib/display/sparkline.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"

namespace ft::client {
namespace {

constexpr int kLevels = 8;
constexpr std::array<const char*, kLevels> kUnicodeLevels = {
    "\u2581", "\u2582", "\u2583", "\u2584", "\u2585", "\u2586", "\u2587", "\u2588"};
constexpr std::array<const char*, kLevels> kAsciiLevels = {"_", ".", ":", "-", "=", "+", "*", "#"};

}  // namespace

Sparkline RenderSparkline(const std::vector<double>& values, SparkGlyphs glyphs) {
  const auto& levels = glyphs == SparkGlyphs::kUnicode ? kUnicodeLevels : kAsciiLevels;
  double lo = INFINITY, hi = -INFINITY;
  for (double v : values) {
    if (!std::isfinite(v)) continue;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  Sparkline line;
  for (double v : values) {
    ++line.columns;
    if (!std::isfinite(v)) {
      line.text += ' ';
      continue;
    }
    int level = kLevels / 2 - 1;  // a flat series: the middle
    if (hi > lo) {
      level = static_cast<int>(std::lround((v - lo) / (hi - lo) * (kLevels - 1)));
      level = std::clamp(level, 0, kLevels - 1);
    }
    line.text += levels[level];
  }
  return line;
}

SparkGlyphs ChooseSparkGlyphs(bool terminal, const char* lc_all, const char* lc_ctype,
                              const char* lang) {
  if (!terminal) return SparkGlyphs::kAscii;
  const char* locale = nullptr;
  for (const char* candidate : {lc_all, lc_ctype, lang}) {
    if (candidate != nullptr && *candidate != '\0') {
      locale = candidate;
      break;
    }
  }
  if (locale == nullptr) return SparkGlyphs::kAscii;  // the "C" locale
  const std::string lowered = absl::AsciiStrToLower(locale);
  return absl::StrContains(lowered, "utf-8") || absl::StrContains(lowered, "utf8")
             ? SparkGlyphs::kUnicode
             : SparkGlyphs::kAscii;
}

void SparkHistory::Add(double value) {
  values_.push_back(value);
  while (values_.size() > capacity_) values_.pop_front();
}

}  // namespace ft::client
