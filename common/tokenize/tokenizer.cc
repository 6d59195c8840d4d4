#include "common/tokenize/tokenizer.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace ft::tokenize {

std::unique_ptr<Tokenizer> Tokenizer::FromFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw TokenizerError(path + ": cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw TokenizerError(path + ": read failed");
  return FromJsonText(text.str(), path);
}

std::unique_ptr<Tokenizer> Tokenizer::FromJsonText(const std::string& text,
                                                   const std::string& file) {
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& error) {
    // error.what() says "at line L, column C"; error.byte is the offset.
    throw TokenizerError(file + ": malformed JSON (byte " + std::to_string(error.byte) +
                         "): " + error.what());
  } catch (const nlohmann::json::exception& error) {
    // Not a parse_error: a number past double's range (out_of_range.406, e.g. 1e999).
    throw TokenizerError(file + ": malformed JSON: " + error.what());
  }
  const JsonView root(json, file, "");
  root.ExpectObject();
  std::unique_ptr<Tokenizer> tokenizer(new Tokenizer());
  tokenizer->normalizer_ = NormalizerFromJson(root["normalizer"]);
  tokenizer->pre_tokenizer_ = PreTokenizerFromJson(root["pre_tokenizer"]);
  tokenizer->model_ = ModelFromJson(root["model"]);
  tokenizer->post_processor_ = PostProcessorFromJson(root["post_processor"]);
  tokenizer->decoder_ = DecoderFromJson(root["decoder"]);
  tokenizer->added_ = AddedTokens::FromJson(root["added_tokens"], tokenizer->normalizer_.get());
  for (const AddedToken& token : tokenizer->added_.tokens()) {
    (token.normalized ? tokenizer->has_normalized_tokens_ : tokenizer->has_raw_tokens_) = true;
  }
  return tokenizer;
}

void Tokenizer::EncodeText(std::string_view text, bool at_start, std::vector<int64_t>& ids) const {
  std::string normalized(text);
  if (normalizer_) normalizer_->Normalize(normalized);
  if (normalized.empty()) return;  // nothing for the pre-tokenizer (no prefix space either)
  std::vector<Segment> segments;
  if (has_normalized_tokens_) {
    added_.Split(normalized, at_start, /*normalized_set=*/true, segments);
  } else {
    segments.push_back({std::move(normalized), -1, at_start});
  }
  std::vector<Piece> pieces;
  for (Segment& segment : segments) {
    if (segment.id >= 0) {
      ids.push_back(segment.id);
      continue;
    }
    pieces.clear();
    pieces.push_back({std::move(segment.text), segment.at_start});
    if (pre_tokenizer_) pre_tokenizer_->PreTokenize(pieces);
    for (const Piece& piece : pieces) model_->Tokenize(piece.text, ids);
  }
}

std::vector<int64_t> Tokenizer::Encode(std::string_view text, int64_t max_length,
                                       bool add_special_tokens) const {
  std::vector<int64_t> ids;
  ids.reserve(text.size() / 3 + 4);
  if (has_raw_tokens_) {
    std::vector<Segment> segments;
    added_.Split(text, /*at_start=*/true, /*normalized_set=*/false, segments);
    for (const Segment& segment : segments) {
      if (segment.id >= 0) {
        ids.push_back(segment.id);
      } else {
        EncodeText(segment.text, segment.at_start, ids);
      }
    }
  } else {
    EncodeText(text, /*at_start=*/true, ids);
  }
  const std::size_t specials = add_special_tokens ? SpecialTokenCount() : 0;
  if (max_length > 0) {
    const int64_t room = std::max<int64_t>(0, max_length - static_cast<int64_t>(specials));
    if (static_cast<int64_t>(ids.size()) > room) ids.resize(static_cast<std::size_t>(room));
  }
  if (post_processor_ && add_special_tokens) post_processor_->Process(ids);
  return ids;
}

std::string Tokenizer::Decode(const std::vector<int64_t>& ids, bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (const int64_t id : ids) {
    const auto added = std::find_if(added_.tokens().begin(), added_.tokens().end(),
                                    [id](const AddedToken& token) { return token.id == id; });
    if (added != added_.tokens().end()) {
      if (!(skip_special_tokens && added->special)) tokens.push_back(added->content);
      continue;
    }
    if (const std::string& token = model_->IdToToken(id); !token.empty()) tokens.push_back(token);
  }
  return DecodeTokens(decoder_.get(), std::move(tokens));
}

int64_t Tokenizer::VocabSize() const {
  int64_t size = model_->VocabSize();
  for (const AddedToken& token : added_.tokens()) size = std::max(size, token.id + 1);
  return size;
}

std::optional<int64_t> Tokenizer::TokenToId(std::string_view token) const {
  for (const AddedToken& added : added_.tokens()) {
    if (added.content == token) return added.id;
  }
  return model_->TokenToId(token);
}

std::size_t Tokenizer::SpecialTokenCount() const {
  return post_processor_ ? post_processor_->AddedCount() : 0;
}

}  // namespace ft::tokenize
