// Python's str semantics on UTF-8 text, as Jinja2 applies them: lengths, indexing and slicing
// count code points, strip() and split() use str.isspace(), and str()/repr() print values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ft::chat {

// Decodes UTF-8 into code points; invalid bytes decode as U+FFFD, one per byte. (The tokenizer's
// common/tokenize/utf8.h does the same, but its library brings ICU, which ftd does not link.)
std::vector<char32_t> DecodeUtf8(std::string_view text);
std::string EncodeUtf8(const std::vector<char32_t>& code_points);
void AppendUtf8(char32_t code_point, std::string& out);
std::size_t CodePointCount(std::string_view text);

// str.isspace() of one code point (Python 3.11's table).
bool IsPythonSpace(char32_t c);

// str.strip()/lstrip()/rstrip(); with `chars` null, whitespace by IsPythonSpace.
std::string PyStrip(std::string_view text, const std::string* chars, bool left, bool right);
// str.split(sep, maxsplit); sep null splits on runs of whitespace.
std::vector<std::string> PySplit(std::string_view text, const std::string* sep, int64_t maxsplit);
// str.replace(old, new, count); count < 0 replaces all.
std::string PyReplace(std::string_view text, std::string_view old, std::string_view replacement,
                      int64_t count);

// Case mappings of ASCII text. Python maps all of Unicode (ß -> SS, ...); text with non-ASCII
// letters returns false so that the caller refuses it rather than rendering it differently.
bool AsciiCaseMappable(std::string_view text);
std::string AsciiUpper(std::string_view text);
std::string AsciiLower(std::string_view text);
std::string PyCapitalize(std::string_view text);  // str.capitalize()
std::string PyTitle(std::string_view text);       // str.title()
std::string JinjaTitle(std::string_view text);    // Jinja's `title` filter (splits on -, space, brackets)

// repr() of a str: quotes chosen as Python does, non-printable characters escaped.
std::string PyReprString(std::string_view text);
// repr()/str() of a float: the shortest text that reads back to the same double.
std::string PyFloatRepr(double value);

}  // namespace ft::chat
