#include "common/tokenize/pre_tokenizer.h"

#include <algorithm>
#include <functional>

#include "common/tokenize/byte_level.h"
#include "common/tokenize/pattern.h"
#include "common/tokenize/unicode_class.h"
#include "common/tokenize/utf8.h"

namespace ft::tokenize {
namespace {

enum class Behavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

Behavior BehaviorFromJson(const JsonView& node, Behavior fallback) {
  if (node.is_null()) return fallback;
  const std::string name = node.String();
  if (name == "Removed") return Behavior::kRemoved;
  if (name == "Isolated") return Behavior::kIsolated;
  if (name == "MergedWithPrevious") return Behavior::kMergedWithPrevious;
  if (name == "MergedWithNext") return Behavior::kMergedWithNext;
  if (name == "Contiguous") return Behavior::kContiguous;
  node.Fail("\"" + name +
            "\" is not a split behavior (Removed, Isolated, MergedWithPrevious, "
            "MergedWithNext, Contiguous)");
}

struct Span {
  std::size_t begin, end;
  bool is_match;
};

// Splits `piece` at `matches` as the Rust library's NormalizedString::split does, appending the
// non-empty results to `out`.
void SplitPiece(const Piece& piece, const std::vector<ByteRange>& matches, Behavior behavior,
                bool invert, std::vector<Piece>& out) {
  std::vector<Span> spans;
  std::size_t previous = 0;
  for (const ByteRange& match : matches) {
    if (match.first > previous) spans.push_back({previous, match.first, invert});
    spans.push_back({match.first, match.second, !invert});
    previous = match.second;
  }
  if (previous < piece.text.size()) spans.push_back({previous, piece.text.size(), invert});

  // (span, removed) after the behavior.
  std::vector<std::pair<Span, bool>> parts;
  switch (behavior) {
    case Behavior::kIsolated:
      for (const Span& span : spans) parts.push_back({span, false});
      break;
    case Behavior::kRemoved:
      for (const Span& span : spans) parts.push_back({span, span.is_match});
      break;
    case Behavior::kContiguous: {
      bool previous_match = false;
      for (const Span& span : spans) {
        if (span.is_match == previous_match && !parts.empty()) {
          parts.back().first.end = span.end;
        } else {
          parts.push_back({span, false});
        }
        previous_match = span.is_match;
      }
      break;
    }
    case Behavior::kMergedWithPrevious: {
      bool previous_match = false;
      for (const Span& span : spans) {
        if (span.is_match && !previous_match && !parts.empty()) {
          parts.back().first.end = span.end;
        } else {
          parts.push_back({span, false});
        }
        previous_match = span.is_match;
      }
      break;
    }
    case Behavior::kMergedWithNext: {
      bool previous_match = false;
      for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
        if (it->is_match && !previous_match && !parts.empty()) {
          parts.back().first.begin = it->begin;
        } else {
          parts.push_back({*it, false});
        }
        previous_match = it->is_match;
      }
      std::reverse(parts.begin(), parts.end());
      break;
    }
  }
  for (const auto& [span, removed] : parts) {
    if (removed || span.end == span.begin) continue;
    out.push_back(
        {piece.text.substr(span.begin, span.end - span.begin), piece.at_start && span.begin == 0});
  }
}

// Every code point for which `predicate` holds, as its own match.
std::vector<ByteRange> CharMatches(const std::string& text,
                                   const std::function<bool(char32_t)>& predicate) {
  std::vector<ByteRange> matches;
  for (std::size_t pos = 0; pos < text.size();) {
    const std::size_t start = pos;
    if (predicate(NextCodePoint(text, pos))) matches.emplace_back(start, pos);
  }
  return matches;
}

void SplitAll(std::vector<Piece>& pieces,
              const std::function<void(const Piece&, std::vector<Piece>&)>& split) {
  std::vector<Piece> out;
  out.reserve(pieces.size() * 2);
  for (const Piece& piece : pieces) split(piece, out);
  pieces.swap(out);
}

class ByteLevelPreTokenizer : public PreTokenizer {
 public:
  explicit ByteLevelPreTokenizer(const JsonView& node)
      : add_prefix_space_(node["add_prefix_space"].Bool(true)),
        use_regex_(node["use_regex"].Bool(true)) {}

  void PreTokenize(std::vector<Piece>& pieces) const override {
    SplitAll(pieces, [this](const Piece& piece, std::vector<Piece>& out) {
      std::string text = piece.text;
      if (add_prefix_space_ && (text.empty() || text[0] != ' ')) text.insert(0, " ");
      const auto emit = [&](std::size_t begin, std::size_t end) {
        Piece split;
        AppendByteLevel(std::string_view(text).substr(begin, end - begin), split.text);
        split.at_start = piece.at_start && begin == 0;
        out.push_back(std::move(split));
      };
      if (!use_regex_) {
        if (!text.empty()) emit(0, text.size());
        return;
      }
      for (const ByteRange& range : Gpt2Split(text)) emit(range.first, range.second);
    });
  }

 private:
  bool add_prefix_space_;
  bool use_regex_;
};

class SplitPreTokenizer : public PreTokenizer {
 public:
  explicit SplitPreTokenizer(const JsonView& node)
      : pattern_(Pattern::FromJson(node["pattern"])),
        behavior_(BehaviorFromJson(node["behavior"], Behavior::kRemoved)),
        invert_(node["invert"].Bool(false)) {
    if (!node.Has("behavior")) node["behavior"].String();  // required, as in the Rust library
  }

  void PreTokenize(std::vector<Piece>& pieces) const override {
    SplitAll(pieces, [this](const Piece& piece, std::vector<Piece>& out) {
      SplitPiece(piece, pattern_.FindMatches(piece.text), behavior_, invert_, out);
    });
  }

 private:
  Pattern pattern_;
  Behavior behavior_;
  bool invert_;
};

// Splits on code points that satisfy a predicate (WhitespaceSplit, Punctuation, Digits).
class CharSplitPreTokenizer : public PreTokenizer {
 public:
  CharSplitPreTokenizer(std::function<bool(char32_t)> predicate, Behavior behavior)
      : predicate_(std::move(predicate)), behavior_(behavior) {}

  void PreTokenize(std::vector<Piece>& pieces) const override {
    SplitAll(pieces, [this](const Piece& piece, std::vector<Piece>& out) {
      SplitPiece(piece, CharMatches(piece.text, predicate_), behavior_, false, out);
    });
  }

 private:
  std::function<bool(char32_t)> predicate_;
  Behavior behavior_;
};

class SequencePreTokenizer : public PreTokenizer {
 public:
  SequencePreTokenizer() = default;
  explicit SequencePreTokenizer(const JsonView& node) {
    const JsonView list = node["pretokenizers"];
    list.ExpectArray();
    for (std::size_t i = 0; i < list.Size(); ++i) {
      std::unique_ptr<PreTokenizer> step = PreTokenizerFromJson(list.At(i));
      if (step) steps_.push_back(std::move(step));
    }
  }
  void Add(std::unique_ptr<PreTokenizer> step) { steps_.push_back(std::move(step)); }

  void PreTokenize(std::vector<Piece>& pieces) const override {
    for (const auto& step : steps_) step->PreTokenize(pieces);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> steps_;
};

class MetaspacePreTokenizer : public PreTokenizer {
 public:
  enum class Prepend { kAlways, kFirst, kNever };

  explicit MetaspacePreTokenizer(const JsonView& node)
      : replacement_(node["replacement"].String("\xE2\x96\x81")), split_(node["split"].Bool(true)) {
    if (replacement_.empty()) node["replacement"].Fail("must be one character");
    if (node.Has("prepend_scheme")) {
      const std::string scheme = node["prepend_scheme"].String();
      if (scheme == "always") {
        prepend_ = Prepend::kAlways;
      } else if (scheme == "first") {
        prepend_ = Prepend::kFirst;
      } else if (scheme == "never") {
        prepend_ = Prepend::kNever;
      } else {
        node["prepend_scheme"].Fail("\"" + scheme + "\" is not one of always, first, never");
      }
    } else {
      prepend_ = node["add_prefix_space"].Bool(true) ? Prepend::kAlways : Prepend::kNever;
    }
  }

  void PreTokenize(std::vector<Piece>& pieces) const override {
    SplitAll(pieces, [this](const Piece& piece, std::vector<Piece>& out) {
      Piece replaced{std::string(), piece.at_start};
      for (const char c : piece.text) {
        if (c == ' ') {
          replaced.text += replacement_;
        } else {
          replaced.text.push_back(c);
        }
      }
      const bool starts = replaced.text.compare(0, replacement_.size(), replacement_) == 0;
      if (!starts &&
          (prepend_ == Prepend::kAlways || (prepend_ == Prepend::kFirst && piece.at_start))) {
        replaced.text.insert(0, replacement_);
      }
      if (!split_) {
        if (!replaced.text.empty()) out.push_back(std::move(replaced));
        return;
      }
      SplitPiece(replaced, Pattern::Literal(replacement_).FindMatches(replaced.text),
                 Behavior::kMergedWithNext, false, out);
    });
  }

 private:
  std::string replacement_;
  bool split_;
  Prepend prepend_ = Prepend::kAlways;
};

bool IsBertPunct(char32_t c) { return IsBertPunctuation(c); }
bool IsSpace(char32_t c) { return IsWhiteSpace(c); }
bool IsDigit(char32_t c) { return IsNumeric(c); }

// Whitespace: \w+|[^\w\s]+, keeping the matches (\w as the Rust library's regex crate has it).
class WhitespacePreTokenizer : public PreTokenizer {
 public:
  void PreTokenize(std::vector<Piece>& pieces) const override {
    SplitAll(pieces, [](const Piece& piece, std::vector<Piece>& out) {
      const std::string& text = piece.text;
      std::vector<ByteRange> matches;
      for (std::size_t pos = 0; pos < text.size();) {
        const std::size_t start = pos;
        const unsigned bits = ClassOf(NextCodePoint(text, pos));
        if (bits & kWhiteSpace) continue;
        const unsigned run = bits & kWord;  // a run of word, or of neither word nor space
        for (std::size_t next = pos; next < text.size(); pos = next) {
          const unsigned more = ClassOf(NextCodePoint(text, next));
          if ((more & kWhiteSpace) || (more & kWord) != run) break;
        }
        matches.emplace_back(start, pos);
      }
      SplitPiece(piece, matches, Behavior::kRemoved, true, out);
    });
  }
};

}  // namespace

std::unique_ptr<PreTokenizer> PreTokenizerFromJson(const JsonView& node) {
  if (node.is_null()) return nullptr;
  node.ExpectObject();
  const std::string type = node["type"].String();
  if (type == "ByteLevel") return std::make_unique<ByteLevelPreTokenizer>(node);
  if (type == "Split") return std::make_unique<SplitPreTokenizer>(node);
  if (type == "Sequence") return std::make_unique<SequencePreTokenizer>(node);
  if (type == "Metaspace") return std::make_unique<MetaspacePreTokenizer>(node);
  if (type == "WhitespaceSplit") {
    return std::make_unique<CharSplitPreTokenizer>(IsSpace, Behavior::kRemoved);
  }
  if (type == "Punctuation") {
    return std::make_unique<CharSplitPreTokenizer>(
        IsBertPunct, BehaviorFromJson(node["behavior"], Behavior::kIsolated));
  }
  if (type == "Digits") {
    return std::make_unique<CharSplitPreTokenizer>(IsDigit, node["individual_digits"].Bool(false)
                                                                ? Behavior::kIsolated
                                                                : Behavior::kContiguous);
  }
  if (type == "BertPreTokenizer") {
    auto sequence = std::make_unique<SequencePreTokenizer>();
    sequence->Add(std::make_unique<CharSplitPreTokenizer>(IsSpace, Behavior::kRemoved));
    sequence->Add(std::make_unique<CharSplitPreTokenizer>(IsBertPunct, Behavior::kIsolated));
    return sequence;
  }
  if (type == "Whitespace") return std::make_unique<WhitespacePreTokenizer>();
  node.Unsupported("pre-tokenizer");
}

}  // namespace ft::tokenize
