#include "client/lib/plot/svg_writer.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace ft::client {
namespace {

constexpr const char* kReplacement = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

// Length of the valid UTF-8 sequence at the start of `text`, or 0 when it is not one
// (overlong forms, surrogates and code points above U+10FFFF are not valid).
size_t Utf8SequenceLength(absl::string_view text) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  size_t length;
  uint32_t code;
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    code = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    code = lead & 0x0F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    code = lead & 0x07;
  } else {
    return 0;
  }
  if (text.size() < length) return 0;
  for (size_t i = 1; i < length; ++i) {
    if ((byte(i) & 0xC0) != 0x80) return 0;
    code = (code << 6) | (byte(i) & 0x3F);
  }
  if (length == 3 && (code < 0x800 || (code >= 0xD800 && code <= 0xDFFF))) return 0;
  if (length == 4 && (code < 0x10000 || code > 0x10FFFF)) return 0;
  // U+FFFE and U+FFFF are not XML characters either.
  if (code == 0xFFFE || code == 0xFFFF) return 0;
  return length;
}

}  // namespace

std::string XmlEscape(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    const char c = text.front();
    const size_t length = Utf8SequenceLength(text);
    if (length == 0) {
      out += kReplacement;
      text.remove_prefix(1);
      continue;
    }
    if (length == 1) {
      switch (c) {
        case '&':
          out += "&amp;";
          break;
        case '<':
          out += "&lt;";
          break;
        case '>':
          out += "&gt;";
          break;
        case '"':
          out += "&quot;";
          break;
        case '\'':
          out += "&apos;";
          break;
        case '\t':
        case '\n':
        case '\r':
          out += c;
          break;
        default:
          if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
            out += kReplacement;
          } else {
            out += c;
          }
      }
    } else {
      out.append(text.data(), length);
    }
    text.remove_prefix(length);
  }
  return out;
}

std::string SvgNumber(double value) {
  if (!std::isfinite(value)) return "0";
  std::string text = absl::StrFormat("%.2f", value);
  while (text.back() == '0') text.pop_back();
  if (text.back() == '.') text.pop_back();
  if (text == "-0") text = "0";
  return text;
}

SvgWriter::SvgWriter(double width, double height) {
  out_ = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  Open("svg", {{"xmlns", "http://www.w3.org/2000/svg"},
               {"width", SvgNumber(width)},
               {"height", SvgNumber(height)},
               {"viewBox", absl::StrCat("0 0 ", SvgNumber(width), " ", SvgNumber(height))}});
}

void SvgWriter::Indent() { out_.append(2 * open_.size(), ' '); }

void SvgWriter::AppendAttributes(const SvgAttributes& attributes) {
  for (const auto& [name, value] : attributes) {
    absl::StrAppend(&out_, " ", name, "=\"", XmlEscape(value), "\"");
  }
}

void SvgWriter::Open(absl::string_view tag, const SvgAttributes& attributes) {
  Indent();
  absl::StrAppend(&out_, "<", tag);
  AppendAttributes(attributes);
  out_ += ">\n";
  open_.emplace_back(tag);
}

void SvgWriter::Close() {
  if (open_.empty()) return;
  const std::string tag = std::move(open_.back());
  open_.pop_back();
  Indent();
  absl::StrAppend(&out_, "</", tag, ">\n");
}

void SvgWriter::Element(absl::string_view tag, const SvgAttributes& attributes,
                        absl::string_view text) {
  Indent();
  absl::StrAppend(&out_, "<", tag);
  AppendAttributes(attributes);
  if (text.empty()) {
    out_ += "/>\n";
  } else {
    absl::StrAppend(&out_, ">", XmlEscape(text), "</", tag, ">\n");
  }
}

std::string SvgWriter::Finish() {
  while (!open_.empty()) Close();
  return std::move(out_);
}

}  // namespace ft::client
