#include "common/tokenize/normalizer.h"

#include <vector>

#include "common/tokenize/pattern.h"
#include "common/tokenize/unicode_class.h"
#include "common/tokenize/utf8.h"

namespace ft::tokenize {
namespace {

// Rust's BertNormalizer: clean_text drops NUL, U+FFFD and other (C* but Cn, of Unicode 8.0)
// characters except \t \n \r and turns whitespace into ' '; CJK ideographs get spaces around
// them; accents are stripped (NFD, then Mn of Unicode 8.0 dropped) when strip_accents says so or,
// unset, when lowercasing. Code points unassigned in those tables stay, as ordinary characters.
class BertNormalizer : public Normalizer {
 public:
  explicit BertNormalizer(const JsonView& node)
      : clean_text_(node["clean_text"].Bool(true)),
        chinese_(node["handle_chinese_chars"].Bool(true)),
        lowercase_(node["lowercase"].Bool(true)),
        strip_accents_(node["strip_accents"].Bool(lowercase_)) {}

  void Normalize(std::string& text) const override {
    if (clean_text_ || chinese_) {
      std::string out;
      out.reserve(text.size() + 8);
      for (std::size_t pos = 0; pos < text.size();) {
        const unsigned char byte = static_cast<unsigned char>(text[pos]);
        if (byte >= 0x20 && byte < 0x7F) {  // printable ASCII: unchanged
          out.push_back(static_cast<char>(byte));
          ++pos;
          continue;
        }
        const char32_t c = NextCodePoint(text, pos);
        if (clean_text_) {
          const unsigned bits = ClassOf(c);
          if (bits & kCleanTextRemoved) continue;
          if (bits & kWhiteSpace) {  // \t \n \r included
            out.push_back(' ');
            continue;
          }
        }
        if (chinese_ && IsChineseChar(c)) {
          out.push_back(' ');
          AppendUtf8(c, out);
          out.push_back(' ');
          continue;
        }
        AppendUtf8(c, out);
      }
      text.swap(out);
    }
    if (strip_accents_ && !IsAscii(text)) {
      const std::string decomposed = tokenize::Normalize(text, NormalForm::kNfd);
      text.clear();
      for (std::size_t pos = 0; pos < decomposed.size();) {
        const std::size_t start = pos;
        const char32_t c = NextCodePoint(decomposed, pos);
        if (!(ClassOf(c) & kNonspacingMark)) text.append(decomposed, start, pos - start);
      }
    }
    if (lowercase_) Lowercase(text);
  }

  static void Lowercase(std::string& text) {
    if (IsAscii(text)) {
      for (char& c : text) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
      }
      return;
    }
    std::string out;
    out.reserve(text.size());
    for (std::size_t pos = 0; pos < text.size();) AppendLowercase(NextCodePoint(text, pos), out);
    text.swap(out);
  }

 private:
  bool clean_text_;
  bool chinese_;
  bool lowercase_;
  bool strip_accents_;
};

class LowercaseNormalizer : public Normalizer {
 public:
  void Normalize(std::string& text) const override { BertNormalizer::Lowercase(text); }
};

class UnicodeNormalizer : public Normalizer {
 public:
  explicit UnicodeNormalizer(NormalForm form) : form_(form) {}
  void Normalize(std::string& text) const override { text = tokenize::Normalize(text, form_); }

 private:
  NormalForm form_;
};

// Rust's StripAccents: drops combining marks (M* of Unicode 9.0); it expects an NFD normalizer
// before it.
class StripAccentsNormalizer : public Normalizer {
 public:
  void Normalize(std::string& text) const override {
    if (IsAscii(text)) return;
    std::string out;
    out.reserve(text.size());
    for (std::size_t pos = 0; pos < text.size();) {
      const std::size_t start = pos;
      const char32_t c = NextCodePoint(text, pos);
      if (!(ClassOf(c) & kCombiningMark)) out.append(text, start, pos - start);
    }
    text.swap(out);
  }
};

class ReplaceNormalizer : public Normalizer {
 public:
  explicit ReplaceNormalizer(const JsonView& node)
      : pattern_(Pattern::FromJson(node["pattern"])), content_(node["content"].String()) {}

  void Normalize(std::string& text) const override {
    const std::vector<ByteRange> matches = pattern_.FindMatches(text);
    if (matches.empty()) return;
    std::string out;
    std::size_t last = 0;
    for (const ByteRange& match : matches) {
      out.append(text, last, match.first - last);
      out += content_;
      last = match.second;
    }
    out.append(text, last, std::string::npos);
    text.swap(out);
  }

 private:
  Pattern pattern_;
  std::string content_;
};

class PrependNormalizer : public Normalizer {
 public:
  explicit PrependNormalizer(const JsonView& node) : prepend_(node["prepend"].String()) {}
  void Normalize(std::string& text) const override {
    if (!text.empty()) text.insert(0, prepend_);
  }

 private:
  std::string prepend_;
};

class StripNormalizer : public Normalizer {
 public:
  explicit StripNormalizer(const JsonView& node)
      : left_(node["strip_left"].Bool(true)), right_(node["strip_right"].Bool(true)) {}

  void Normalize(std::string& text) const override {
    std::size_t begin = 0;
    std::size_t end = text.size();
    if (left_) {
      while (begin < end) {
        std::size_t pos = begin;
        if (!IsWhiteSpace(NextCodePoint(text, pos))) break;
        begin = pos;
      }
    }
    if (right_) {
      while (end > begin) {
        std::size_t start = end - 1;
        while (start > begin && (static_cast<unsigned char>(text[start]) >> 6) == 0x2) --start;
        std::size_t pos = start;
        if (!IsWhiteSpace(NextCodePoint(text, pos))) break;
        end = start;
      }
    }
    text = text.substr(begin, end - begin);
  }

 private:
  bool left_;
  bool right_;
};

class SequenceNormalizer : public Normalizer {
 public:
  explicit SequenceNormalizer(const JsonView& node) {
    const JsonView list = node["normalizers"];
    list.ExpectArray();
    for (std::size_t i = 0; i < list.Size(); ++i) {
      std::unique_ptr<Normalizer> normalizer = NormalizerFromJson(list.At(i));
      if (normalizer) steps_.push_back(std::move(normalizer));
    }
  }
  void Normalize(std::string& text) const override {
    for (const auto& step : steps_) step->Normalize(text);
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> steps_;
};

}  // namespace

std::unique_ptr<Normalizer> NormalizerFromJson(const JsonView& node) {
  if (node.is_null()) return nullptr;
  node.ExpectObject();
  const std::string type = node["type"].String();
  if (type == "BertNormalizer") return std::make_unique<BertNormalizer>(node);
  if (type == "Lowercase") return std::make_unique<LowercaseNormalizer>();
  if (type == "NFC") return std::make_unique<UnicodeNormalizer>(NormalForm::kNfc);
  if (type == "NFD") return std::make_unique<UnicodeNormalizer>(NormalForm::kNfd);
  if (type == "NFKC") return std::make_unique<UnicodeNormalizer>(NormalForm::kNfkc);
  if (type == "NFKD") return std::make_unique<UnicodeNormalizer>(NormalForm::kNfkd);
  if (type == "StripAccents") return std::make_unique<StripAccentsNormalizer>();
  if (type == "Replace") return std::make_unique<ReplaceNormalizer>(node);
  if (type == "Prepend") return std::make_unique<PrependNormalizer>(node);
  if (type == "Strip") return std::make_unique<StripNormalizer>(node);
  if (type == "Sequence") return std::make_unique<SequenceNormalizer>(node);
  node.Unsupported("normalizer");
}

}  // namespace ft::tokenize
