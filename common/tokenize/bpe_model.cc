// BPE as the Rust library's models::bpe: a word is split into characters (with the continuing
// subword prefix on all but the first and the end-of-word suffix on the last), unknown ones
// become byte-fallback tokens or unk (fused when fuse_unk), then the adjacent pair of lowest merge
// rank (leftmost on ties) is merged until none is left. Results are cached per word.
#include <cstdio>
#include <deque>
#include <mutex>
#include <unordered_map>

#include "common/tokenize/model.h"
#include "common/tokenize/utf8.h"
#include "common/tokenize/vocab.h"

namespace ft::tokenize {
namespace {

struct Merge {
  int32_t rank;
  int32_t id;
};

uint64_t PairKey(int64_t left, int64_t right) {
  return (static_cast<uint64_t>(left) << 32) | static_cast<uint32_t>(right);
}

class BpeModel : public Model {
 public:
  explicit BpeModel(const JsonView& node)
      : vocab_(Vocab::FromJson(node["vocab"])),
        prefix_(node["continuing_subword_prefix"].String("")),
        suffix_(node["end_of_word_suffix"].String("")),
        fuse_unk_(node["fuse_unk"].Bool(false)),
        byte_fallback_(node["byte_fallback"].Bool(false)),
        ignore_merges_(node["ignore_merges"].Bool(false)) {
    if (node.Has("dropout") && node["dropout"].json().is_number() &&
        node["dropout"].json().get<double>() != 0.0) {
      node["dropout"].Fail("is not supported (BPE dropout is for training tokenizers)");
    }
    if (node.Has("unk_token")) {
      const std::string unk = node["unk_token"].String();
      unk_id_ = vocab_.Find(unk);
      if (!unk_id_) node["unk_token"].Fail("\"" + unk + "\" is not in the vocabulary");
    }
    const JsonView merges = node["merges"];
    merges.ExpectArray();
    merges_.reserve(merges.Size());
    for (std::size_t i = 0; i < merges.Size(); ++i) {
      const JsonView merge = merges.At(i);
      std::string left, right;
      if (merge.json().is_string()) {
        const std::string line = merge.String();
        const std::size_t space = line.find(' ');
        if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos) {
          merge.Fail("must be two tokens separated by one space");
        }
        left = line.substr(0, space);
        right = line.substr(space + 1);
      } else {
        if (!merge.json().is_array() || merge.Size() != 2) merge.Fail("must be a pair of tokens");
        left = merge.At(0).String();
        right = merge.At(1).String();
      }
      const auto left_id = vocab_.Find(left);
      const auto right_id = vocab_.Find(right);
      const std::string joined =
          left + (right.size() >= prefix_.size() ? right.substr(prefix_.size()) : std::string());
      const auto joined_id = vocab_.Find(joined);
      if (!left_id || !right_id || !joined_id) {
        merge.Fail("merges \"" + left + "\" and \"" + right + "\", but \"" +
                   (!left_id    ? left
                    : !right_id ? right
                                : joined) +
                   "\" is not in the vocabulary");
      }
      merges_.emplace(PairKey(*left_id, *right_id),
                      Merge{static_cast<int32_t>(i), static_cast<int32_t>(*joined_id)});
    }
  }

  void Tokenize(std::string_view word, std::vector<int64_t>& ids) const override {
    if (word.empty()) return;
    if (ignore_merges_) {
      if (const auto id = vocab_.Find(word)) {
        ids.push_back(*id);
        return;
      }
    }
    {
      std::lock_guard<std::mutex> lock(cache_mutex_);
      const auto found = cache_.find(word);
      if (found != cache_.end()) {
        ids.insert(ids.end(), found->second.begin(), found->second.end());
        return;
      }
    }
    std::vector<int64_t> symbols = MergeWord(word);
    ids.insert(ids.end(), symbols.begin(), symbols.end());
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (cache_.size() < kCacheCapacity && cache_.find(word) == cache_.end()) {
      cache_words_.emplace_back(word);
      cache_.emplace(std::string_view(cache_words_.back()), std::move(symbols));
    }
  }

  std::optional<int64_t> TokenToId(std::string_view token) const override {
    return vocab_.Find(token);
  }
  const std::string& IdToToken(int64_t id) const override { return vocab_.Token(id); }
  int64_t VocabSize() const override { return vocab_.size(); }

 private:
  static constexpr std::size_t kCacheCapacity = 100000;

  // The ids of `word`'s characters, then merged.
  std::vector<int64_t> MergeWord(std::string_view word) const {
    std::vector<int64_t> symbols;
    symbols.reserve(word.size());
    std::optional<int64_t> pending_unk;
    std::string piece;
    for (std::size_t pos = 0; pos < word.size();) {
      const std::size_t start = pos;
      pos += Utf8Length(static_cast<unsigned char>(word[pos]));
      if (pos > word.size()) pos = word.size();
      piece.clear();
      if (start > 0) piece += prefix_;
      piece.append(word.substr(start, pos - start));
      if (pos == word.size()) piece += suffix_;
      if (const auto id = vocab_.Find(piece)) {
        if (pending_unk) symbols.push_back(*pending_unk), pending_unk.reset();
        symbols.push_back(*id);
        continue;
      }
      if (byte_fallback_ && AppendByteFallback(piece, symbols)) continue;
      if (unk_id_) {
        if (pending_unk && !fuse_unk_) symbols.push_back(*pending_unk);
        pending_unk = unk_id_;
      }
    }
    if (pending_unk) symbols.push_back(*pending_unk);
    MergeAll(symbols);
    return symbols;
  }

  // <0xXX> tokens for every byte of `piece`, if the vocabulary has them all.
  bool AppendByteFallback(const std::string& piece, std::vector<int64_t>& symbols) const {
    std::vector<int64_t> bytes;
    char name[8];
    for (const char c : piece) {
      std::snprintf(name, sizeof(name), "<0x%02X>", static_cast<unsigned char>(c));
      const auto id = vocab_.Find(name);
      if (!id) return false;
      bytes.push_back(*id);
    }
    symbols.insert(symbols.end(), bytes.begin(), bytes.end());
    return true;
  }

  // Merges the pair of lowest rank (leftmost on ties) until no pair has a merge.
  void MergeAll(std::vector<int64_t>& symbols) const {
    constexpr int32_t kNone = INT32_MAX;
    if (symbols.size() < 2) return;
    std::vector<Merge> pairs(symbols.size() - 1);  // pairs[i]: symbols[i] + symbols[i+1]
    const auto lookup = [&](std::size_t i) {
      const auto found = merges_.find(PairKey(symbols[i], symbols[i + 1]));
      return found == merges_.end() ? Merge{kNone, -1} : found->second;
    };
    for (std::size_t i = 0; i + 1 < symbols.size(); ++i) pairs[i] = lookup(i);
    while (!pairs.empty()) {
      std::size_t best = 0;
      for (std::size_t i = 1; i < pairs.size(); ++i) {
        if (pairs[i].rank < pairs[best].rank) best = i;
      }
      if (pairs[best].rank == kNone) break;
      symbols[best] = pairs[best].id;
      symbols.erase(symbols.begin() + static_cast<std::ptrdiff_t>(best) + 1);
      pairs.erase(pairs.begin() + static_cast<std::ptrdiff_t>(best));
      if (best > 0) pairs[best - 1] = lookup(best - 1);
      if (best < pairs.size()) pairs[best] = lookup(best);
    }
  }

  Vocab vocab_;
  std::unordered_map<uint64_t, Merge> merges_;
  std::string prefix_;
  std::string suffix_;
  bool fuse_unk_;
  bool byte_fallback_;
  bool ignore_merges_;
  std::optional<int64_t> unk_id_;
  mutable std::mutex cache_mutex_;
  // Keys view into cache_words_ (a deque: its strings never move).
  mutable std::unordered_map<std::string_view, std::vector<int64_t>> cache_;
  mutable std::deque<std::string> cache_words_;
};

}  // namespace

std::unique_ptr<Model> BpeModelFromJson(const JsonView& node) {
  return std::make_unique<BpeModel>(node);
}

}  // namespace ft::tokenize
