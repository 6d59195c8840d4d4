#include "client/lib/plot/svg_writer.h"

#include <cmath>
#include <limits>

#include "gtest/gtest.h"

namespace ft::client {
namespace {

TEST(XmlEscapeTest, EntitiesForMarkupCharacters) {
  EXPECT_EQ(XmlEscape("a < b && c > \"d\" 'e'"),
            "a &lt; b &amp;&amp; c &gt; &quot;d&quot; &apos;e&apos;");
  EXPECT_EQ(XmlEscape("plain text"), "plain text");
  EXPECT_EQ(XmlEscape("&amp;"), "&amp;amp;") << "escaped once more, never trusted";
}

TEST(XmlEscapeTest, InvalidCharactersBecomeReplacementCharacters) {
  const std::string replacement = "\xEF\xBF\xBD";
  EXPECT_EQ(XmlEscape(std::string("a\0b", 3)), "a" + replacement + "b");
  EXPECT_EQ(XmlEscape("bell\x07"), "bell" + replacement);
  EXPECT_EQ(XmlEscape("tab\tnewline\n"), "tab\tnewline\n");
  EXPECT_EQ(XmlEscape("caf\xC3\xA9 \xE2\x80\x94 \xF0\x9F\x98\x80"),
            "caf\xC3\xA9 \xE2\x80\x94 \xF0\x9F\x98\x80")
      << "valid UTF-8 passes";
  EXPECT_EQ(XmlEscape("latin1 caf\xE9!"), "latin1 caf" + replacement + "!");
  EXPECT_EQ(XmlEscape("cut \xE2\x80"), "cut " + replacement + replacement);
  EXPECT_EQ(XmlEscape("\xC0\xAF"), replacement + replacement) << "overlong";
  EXPECT_EQ(XmlEscape("\xED\xA0\x80"), replacement + replacement + replacement) << "surrogate";
}

TEST(SvgNumberTest, ShortAndFinite) {
  EXPECT_EQ(SvgNumber(12.5), "12.5");
  EXPECT_EQ(SvgNumber(3), "3");
  EXPECT_EQ(SvgNumber(-0.25), "-0.25");
  EXPECT_EQ(SvgNumber(1.0 / 3), "0.33");
  EXPECT_EQ(SvgNumber(-0.001), "0");
  EXPECT_EQ(SvgNumber(std::nan("")), "0");
  EXPECT_EQ(SvgNumber(std::numeric_limits<double>::infinity()), "0");
}

TEST(SvgWriterTest, NestsAndEscapes) {
  SvgWriter svg(100, 50);
  svg.Open("g", {{"class", "a<b"}});
  svg.Element("text", {{"x", "1"}}, "R&D <1>");
  svg.Element("line", {{"x1", "0"}});
  const std::string out = svg.Finish();
  EXPECT_EQ(out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100\" height=\"50\" "
            "viewBox=\"0 0 100 50\">\n"
            "  <g class=\"a&lt;b\">\n"
            "    <text x=\"1\">R&amp;D &lt;1&gt;</text>\n"
            "    <line x1=\"0\"/>\n"
            "  </g>\n"
            "</svg>\n");
}

}  // namespace
}  // namespace ft::client
