// A small writer of well-formed SVG (XML): elements with attributes and text, escaped as XML
// requires, nested properly, every number finite.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace ft::client {

// Text made safe for XML content and attribute values: & < > " ' become entities; bytes that are
// not valid UTF-8 and control characters that XML 1.0 forbids (all below U+0020 except tab,
// newline and carriage return) become U+FFFD.
std::string XmlEscape(absl::string_view text);

// A coordinate or length: at most two decimals, trailing zeros dropped ("12.5", "3", "-0.25").
// Callers must not pass non-finite values (the chart drops them before); one that slips through
// is written as "0" so that the file stays valid.
std::string SvgNumber(double value);

using SvgAttributes = std::vector<std::pair<std::string, std::string>>;

class SvgWriter {
 public:
  // Starts the document: the XML declaration and the <svg> root of the given size in pixels.
  SvgWriter(double width, double height);

  // <tag attrs>, to be closed by Close().
  void Open(absl::string_view tag, const SvgAttributes& attributes = {});
  void Close();
  // <tag attrs/> or, with text, <tag attrs>text</tag>. Attribute values and text are escaped.
  void Element(absl::string_view tag, const SvgAttributes& attributes, absl::string_view text = {});

  // Closes every open element and the root, and returns the document.
  std::string Finish();

 private:
  void Indent();
  void AppendAttributes(const SvgAttributes& attributes);

  std::string out_;
  std::vector<std::string> open_;
};

}  // namespace ft::client
