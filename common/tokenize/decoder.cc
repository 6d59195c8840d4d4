#include "common/tokenize/decoder.h"

#include <array>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <utility>

#include "common/tokenize/byte_level.h"
#include "common/tokenize/pattern.h"
#include "common/tokenize/utf8.h"

namespace ft::tokenize {
namespace {

std::string Join(const std::vector<std::string>& tokens, const std::string& separator) {
  std::string text;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (i > 0) text += separator;
    text += tokens[i];
  }
  return text;
}

// Invalid UTF-8 as U+FFFD, one per invalid byte (Rust's String::from_utf8_lossy).
std::string Utf8Lossy(std::string_view bytes) {
  std::string text;
  text.reserve(bytes.size());
  for (std::size_t pos = 0; pos < bytes.size();) AppendUtf8(NextCodePoint(bytes, pos), text);
  return text;
}

// GPT-2's printable characters back to their bytes; a token with any other character (an added
// token's content) keeps its own UTF-8, and the bytes of all tokens are decoded together, so that
// a character split over two tokens comes out whole.
class ByteLevelDecoder : public Decoder {
 public:
  ByteLevelDecoder() {
    for (int b = 0; b < 256; ++b) {
      const std::string& printable = ByteLevelChar(static_cast<unsigned char>(b));
      std::size_t pos = 0;
      bytes_.emplace(NextCodePoint(printable, pos), static_cast<char>(b));
    }
  }
  std::vector<std::string> DecodeChain(std::vector<std::string> tokens) const override {
    std::string bytes;
    for (const std::string& token : tokens) {
      std::string mapped;
      bool all_mapped = true;
      for (std::size_t pos = 0; pos < token.size() && all_mapped;) {
        const auto found = bytes_.find(NextCodePoint(token, pos));
        if (found == bytes_.end()) {
          all_mapped = false;
        } else {
          mapped += found->second;
        }
      }
      bytes += all_mapped ? mapped : token;
    }
    return {Utf8Lossy(bytes)};
  }

 private:
  std::unordered_map<char32_t, char> bytes_;
};

// SentencePiece's word marker back to a space; the first token's markers are dropped when the
// pre-tokenizer prepended one (prepend_scheme other than "never").
class MetaspaceDecoder : public Decoder {
 public:
  explicit MetaspaceDecoder(const JsonView& node)
      : replacement_(node["replacement"].String("\xE2\x96\x81")) {
    if (replacement_.empty()) node["replacement"].Fail("must be one character");
    if (node.Has("prepend_scheme")) {
      strip_first_ = node["prepend_scheme"].String() != "never";
    } else {
      strip_first_ = node["add_prefix_space"].Bool(true);
    }
  }
  std::vector<std::string> DecodeChain(std::vector<std::string> tokens) const override {
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      std::string out;
      const std::string& token = tokens[i];
      for (std::size_t pos = 0; pos < token.size();) {
        if (token.compare(pos, replacement_.size(), replacement_) == 0) {
          if (i != 0 || !strip_first_) out += ' ';
          pos += replacement_.size();
        } else {
          out += token[pos++];
        }
      }
      tokens[i] = std::move(out);
    }
    return tokens;
  }

 private:
  std::string replacement_;
  bool strip_first_;
};

// "<0x41>" tokens (SentencePiece's byte fallback) to their bytes; a run of them that is not
// valid UTF-8 becomes one U+FFFD per byte.
class ByteFallbackDecoder : public Decoder {
 public:
  std::vector<std::string> DecodeChain(std::vector<std::string> tokens) const override {
    std::vector<std::string> out;
    std::string pending;
    const auto flush = [&] {
      if (pending.empty()) return;
      if (IsValidUtf8(pending)) {
        out.push_back(pending);
      } else {
        for (std::size_t i = 0; i < pending.size(); ++i) out.emplace_back("\xEF\xBF\xBD");
      }
      pending.clear();
    };
    for (std::string& token : tokens) {
      if (const std::optional<char> byte = ByteToken(token)) {
        pending += *byte;
      } else {
        flush();
        out.push_back(std::move(token));
      }
    }
    flush();
    return out;
  }

 private:
  static std::optional<char> ByteToken(const std::string& token) {
    if (token.size() != 6 || token.compare(0, 3, "<0x") != 0 || token[5] != '>') return {};
    int value = 0;
    for (std::size_t i = 3; i < 5; ++i) {
      const char c = token[i];
      int digit = 0;
      if (c >= '0' && c <= '9') {
        digit = c - '0';
      } else if (c >= 'A' && c <= 'F') {
        digit = c - 'A' + 10;
      } else if (c >= 'a' && c <= 'f') {
        digit = c - 'a' + 10;
      } else {
        return {};
      }
      value = value * 16 + digit;
    }
    return static_cast<char>(value);
  }
  static bool IsValidUtf8(std::string_view bytes) {
    for (std::size_t pos = 0; pos < bytes.size();) {
      const std::size_t before = pos;
      if (NextCodePoint(bytes, pos) == kReplacementChar &&
          bytes.substr(before, 3) != "\xEF\xBF\xBD") {
        return false;
      }
    }
    return true;
  }
};

class FuseDecoder : public Decoder {
 public:
  std::vector<std::string> DecodeChain(std::vector<std::string> tokens) const override {
    return {Join(tokens, "")};
  }
};

// Up to `start` leading and `stop` trailing copies of `content` removed from each token.
class StripDecoder : public Decoder {
 public:
  explicit StripDecoder(const JsonView& node)
      : content_(node["content"].String()),
        start_(node["start"].Int(0)),
        stop_(node["stop"].Int(0)) {
    if (content_.empty()) node["content"].Fail("must be one character");
  }
  std::vector<std::string> DecodeChain(std::vector<std::string> tokens) const override {
    for (std::string& token : tokens) {
      std::size_t begin = 0;
      for (int64_t i = 0; i < start_ && token.compare(begin, content_.size(), content_) == 0 &&
                          begin + content_.size() <= token.size();
           ++i) {
        begin += content_.size();
      }
      std::size_t end = token.size();
      for (int64_t i = 0; i < stop_ && end >= begin + content_.size() &&
                          token.compare(end - content_.size(), content_.size(), content_) == 0;
           ++i) {
        end -= content_.size();
      }
      token = token.substr(begin, end - begin);
    }
    return tokens;
  }

 private:
  std::string content_;
  int64_t start_;
  int64_t stop_;
};

class ReplaceDecoder : public Decoder {
 public:
  explicit ReplaceDecoder(const JsonView& node)
      : pattern_(Pattern::FromJson(node["pattern"])), content_(node["content"].String()) {}
  std::vector<std::string> DecodeChain(std::vector<std::string> tokens) const override {
    for (std::string& token : tokens) {
      std::string out;
      std::size_t copied = 0;
      for (const auto& [begin, end] : pattern_.FindMatches(token)) {
        out.append(token, copied, begin - copied);
        out += content_;
        copied = end;
      }
      out.append(token, copied, std::string::npos);
      token = std::move(out);
    }
    return tokens;
  }

 private:
  Pattern pattern_;
  std::string content_;
};

// BERT's "##" continuation prefix removed, other tokens after the first preceded by a space;
// with cleanup, the spaces before punctuation and in English contractions removed as the Rust
// library's cleanup does.
class WordPieceDecoder : public Decoder {
 public:
  explicit WordPieceDecoder(const JsonView& node)
      : prefix_(node["prefix"].String("##")), cleanup_(node["cleanup"].Bool(true)) {}
  std::vector<std::string> DecodeChain(std::vector<std::string> tokens) const override {
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      std::string& token = tokens[i];
      if (i != 0) {
        if (token.compare(0, prefix_.size(), prefix_) == 0) {
          token.erase(0, prefix_.size());
        } else {
          token.insert(0, " ");
        }
      }
      if (cleanup_) token = Cleanup(token);
    }
    return tokens;
  }

 private:
  static std::string Cleanup(std::string text) {
    static const std::array<std::pair<const char*, const char*>, 11> kReplacements = {{
        {" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"}, {" n't", "n't"},
        {" 'm", "'m"}, {" do not", " don't"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"},
    }};
    for (const auto& [from, to] : kReplacements) {
      const std::string needle(from);
      for (std::size_t pos = text.find(needle); pos != std::string::npos;
           pos = text.find(needle, pos + std::char_traits<char>::length(to))) {
        text.replace(pos, needle.size(), to);
      }
    }
    return text;
  }
  std::string prefix_;
  bool cleanup_;
};

class SequenceDecoder : public Decoder {
 public:
  explicit SequenceDecoder(const JsonView& node) {
    const JsonView list = node["decoders"];
    list.ExpectArray();
    for (std::size_t i = 0; i < list.Size(); ++i) {
      if (auto decoder = DecoderFromJson(list.At(i))) decoders_.push_back(std::move(decoder));
    }
  }
  std::vector<std::string> DecodeChain(std::vector<std::string> tokens) const override {
    for (const auto& decoder : decoders_) tokens = decoder->DecodeChain(std::move(tokens));
    return tokens;
  }

 private:
  std::vector<std::unique_ptr<Decoder>> decoders_;
};

}  // namespace

std::unique_ptr<Decoder> DecoderFromJson(const JsonView& node) {
  if (node.is_null()) return nullptr;
  node.ExpectObject();
  const std::string type = node["type"].String("");
  if (type == "ByteLevel") return std::make_unique<ByteLevelDecoder>();
  if (type == "Metaspace") return std::make_unique<MetaspaceDecoder>(node);
  if (type == "ByteFallback") return std::make_unique<ByteFallbackDecoder>();
  if (type == "Fuse") return std::make_unique<FuseDecoder>();
  if (type == "Strip") return std::make_unique<StripDecoder>(node);
  if (type == "Replace") return std::make_unique<ReplaceDecoder>(node);
  if (type == "WordPiece") return std::make_unique<WordPieceDecoder>(node);
  if (type == "Sequence") return std::make_unique<SequenceDecoder>(node);
  node.Unsupported("decoder");
}

std::string DecodeTokens(const Decoder* decoder, std::vector<std::string> tokens) {
  if (decoder == nullptr) return Join(tokens, " ");
  return Join(decoder->DecodeChain(std::move(tokens)), "");
}

}  // namespace ft::tokenize
