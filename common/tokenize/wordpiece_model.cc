// WordPiece and WordLevel as the Rust library's models::wordpiece / models::wordlevel.
#include "common/tokenize/model.h"
#include "common/tokenize/utf8.h"
#include "common/tokenize/vocab.h"

namespace ft::tokenize {
namespace {

std::size_t CountCodePoints(std::string_view text) {
  std::size_t count = 0;
  for (const char c : text) count += (static_cast<unsigned char>(c) >> 6) != 0x2;
  return count;
}

// Greedy longest-match-first: the longest vocabulary entry that starts the rest of the word
// (with the continuing prefix after the first), else the whole word is unk.
class WordPieceModel : public Model {
 public:
  explicit WordPieceModel(const JsonView& node)
      : vocab_(Vocab::FromJson(node["vocab"])),
        prefix_(node["continuing_subword_prefix"].String("##")),
        max_chars_(node["max_input_chars_per_word"].Int(100)) {
    const std::string unk = node["unk_token"].String("[UNK]");
    const auto unk_id = vocab_.Find(unk);
    if (!unk_id) node["unk_token"].Fail("\"" + unk + "\" is not in the vocabulary");
    unk_id_ = *unk_id;
  }

  void Tokenize(std::string_view word, std::vector<int64_t>& ids) const override {
    if (word.empty()) return;
    if (static_cast<int64_t>(CountCodePoints(word)) > max_chars_) {
      ids.push_back(unk_id_);
      return;
    }
    const std::size_t first = ids.size();
    std::string candidate;
    std::size_t start = 0;
    while (start < word.size()) {
      std::size_t end = word.size();
      std::optional<int64_t> found;
      while (start < end) {
        candidate.clear();
        if (start > 0) candidate += prefix_;
        candidate.append(word.substr(start, end - start));
        found = vocab_.Find(candidate);
        if (found) break;
        // Drop the last code point.
        do {
          --end;
        } while (end > start && (static_cast<unsigned char>(word[end]) >> 6) == 0x2);
      }
      if (!found) {
        ids.resize(first);
        ids.push_back(unk_id_);
        return;
      }
      ids.push_back(*found);
      start = end;
    }
  }

  std::optional<int64_t> TokenToId(std::string_view token) const override {
    return vocab_.Find(token);
  }
  const std::string& IdToToken(int64_t id) const override { return vocab_.Token(id); }
  int64_t VocabSize() const override { return vocab_.size(); }

 private:
  Vocab vocab_;
  std::string prefix_;
  int64_t max_chars_;
  int64_t unk_id_ = 0;
};

class WordLevelModel : public Model {
 public:
  explicit WordLevelModel(const JsonView& node) : vocab_(Vocab::FromJson(node["vocab"])) {
    if (node.Has("unk_token")) {
      const std::string unk = node["unk_token"].String();
      unk_id_ = vocab_.Find(unk);
      if (!unk_id_) node["unk_token"].Fail("\"" + unk + "\" is not in the vocabulary");
    }
  }

  void Tokenize(std::string_view word, std::vector<int64_t>& ids) const override {
    if (const auto id = vocab_.Find(word)) {
      ids.push_back(*id);
    } else if (unk_id_) {
      ids.push_back(*unk_id_);
    } else {
      throw TokenizerError("WordLevel: \"" + std::string(word) +
                           "\" is not in the vocabulary and the model has no unk_token");
    }
  }

  std::optional<int64_t> TokenToId(std::string_view token) const override {
    return vocab_.Find(token);
  }
  const std::string& IdToToken(int64_t id) const override { return vocab_.Token(id); }
  int64_t VocabSize() const override { return vocab_.size(); }

 private:
  Vocab vocab_;
  std::optional<int64_t> unk_id_;
};

}  // namespace

std::unique_ptr<Model> WordPieceModelFromJson(const JsonView& node) {
  return std::make_unique<WordPieceModel>(node);
}

std::unique_ptr<Model> WordLevelModelFromJson(const JsonView& node) {
  return std::make_unique<WordLevelModel>(node);
}

}  // namespace ft::tokenize
