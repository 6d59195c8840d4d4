#include "client/lib/display/sparkline.h"

#include <cmath>

#include "gtest/gtest.h"

namespace ft::client {
namespace {

TEST(SparklineTest, ScalesFromTheSmallestToTheLargestValue) {
  const Sparkline line =
      RenderSparkline({0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2}, SparkGlyphs::kUnicode);
  EXPECT_EQ(line.text, "\u2588\u2587\u2586\u2585\u2584\u2583\u2582\u2581");
  EXPECT_EQ(line.columns, 8);
  EXPECT_EQ(RenderSparkline({0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2}, SparkGlyphs::kAscii).text,
            "#*+=-:._");
  // Scale is relative: the same shape at another offset and size draws the same.
  EXPECT_EQ(RenderSparkline({100, 300, 200}, SparkGlyphs::kAscii).text,
            RenderSparkline({1.0, 1.2, 1.1}, SparkGlyphs::kAscii).text);
  EXPECT_EQ(RenderSparkline({1, 3, 2}, SparkGlyphs::kAscii).text, "_#=");
}

TEST(SparklineTest, ConstantSeriesSitsInTheMiddle) {
  EXPECT_EQ(RenderSparkline({0.5, 0.5, 0.5}, SparkGlyphs::kUnicode).text, "\u2584\u2584\u2584");
  EXPECT_EQ(RenderSparkline({2}, SparkGlyphs::kAscii).text, "-");
  EXPECT_EQ(RenderSparkline({}, SparkGlyphs::kAscii).columns, 0);
}

TEST(SparklineTest, NonFiniteValuesAreBlanksAndDoNotDistortTheScale) {
  const Sparkline line = RenderSparkline({1, std::nan(""), 3, INFINITY, 2}, SparkGlyphs::kAscii);
  EXPECT_EQ(line.text, "_ # =");
  EXPECT_EQ(line.columns, 5);
}

TEST(SparklineTest, UnicodeOnlyOnAUtf8Terminal) {
  EXPECT_EQ(ChooseSparkGlyphs(true, nullptr, nullptr, "en_US.UTF-8"), SparkGlyphs::kUnicode);
  EXPECT_EQ(ChooseSparkGlyphs(true, nullptr, nullptr, "C.utf8"), SparkGlyphs::kUnicode);
  EXPECT_EQ(ChooseSparkGlyphs(false, nullptr, nullptr, "en_US.UTF-8"), SparkGlyphs::kAscii);
  EXPECT_EQ(ChooseSparkGlyphs(true, nullptr, nullptr, nullptr), SparkGlyphs::kAscii);
  EXPECT_EQ(ChooseSparkGlyphs(true, nullptr, nullptr, "de_DE.ISO-8859-1"), SparkGlyphs::kAscii);
  // LC_ALL overrides LC_CTYPE, which overrides LANG; empty means unset.
  EXPECT_EQ(ChooseSparkGlyphs(true, "C", "en_US.UTF-8", "en_US.UTF-8"), SparkGlyphs::kAscii);
  EXPECT_EQ(ChooseSparkGlyphs(true, "", "en_US.UTF-8", "C"), SparkGlyphs::kUnicode);
  EXPECT_EQ(ChooseSparkGlyphs(true, "", "POSIX", "en_US.UTF-8"), SparkGlyphs::kAscii);
}

TEST(SparklineTest, HistoryKeepsTheNewestValues) {
  SparkHistory history(3);
  for (double v : {1, 2, 3, 4, 5}) history.Add(v);
  EXPECT_EQ(history.values(), (std::vector<double>{3, 4, 5}));
}

}  // namespace
}  // namespace ft::client
