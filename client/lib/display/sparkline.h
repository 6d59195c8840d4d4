// A sparkline: a series drawn as one character per value, low to high, e.g. the training loss of
// the last progress reports in `ftctl watch`: ▇▆▆▅▄▄▃▂▂▁ (or "#*+=-:._" without UTF-8).
#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <vector>

namespace ft::client {

enum class SparkGlyphs {
  kAscii,    // _.:-=+*# (8 levels), for terminals and locales that are not UTF-8
  kUnicode,  // ▁▂▃▄▅▆▇█ (U+2581..U+2588)
};

struct Sparkline {
  std::string text;  // UTF-8 with kUnicode
  int columns = 0;   // terminal columns it takes: one per value
};

// One glyph per value, scaled so the smallest finite value is the lowest level and the largest
// the highest; a constant series sits at the middle level. Non-finite values are blanks.
Sparkline RenderSparkline(const std::vector<double>& values, SparkGlyphs glyphs);

// Unicode only on a terminal whose locale is UTF-8: the first non-empty of LC_ALL, LC_CTYPE and
// LANG (POSIX precedence) names the UTF-8 codeset ("en_US.UTF-8", "C.utf8"). Null means unset.
SparkGlyphs ChooseSparkGlyphs(bool terminal, const char* lc_all, const char* lc_ctype,
                              const char* lang);

// The newest `capacity` values of a series.
class SparkHistory {
 public:
  explicit SparkHistory(size_t capacity = 30) : capacity_(capacity) {}
  void Add(double value);
  std::vector<double> values() const { return {values_.begin(), values_.end()}; }

 private:
  size_t capacity_;
  std::deque<double> values_;
};

}  // namespace ft::client
