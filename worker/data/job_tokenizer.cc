#include "worker/data/job_tokenizer.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "common/models/model_folder.h"
#include "common/tokenize/byte_tokenizer.h"
#include "common/tokenize/byte_tokenizer_json.h"
#include "common/tokenize/tokenizer.h"
#include "worker/data/file_identity.h"

namespace ft::train {
namespace {

static_assert(tokenize::ByteTokenizer::kByteOffset == tokenize::kByteTokenizerOffset,
              "the byte tokenizer and the tokenizer.json written for it must agree");

// Names the byte-level tokenizer and the rules of Encode below in cache keys: change it whenever
// either would produce other ids for the same text.
constexpr char kByteTokenizerId[] = "ft-bytes-v1 (byte+4, head truncation, empty text -> <unk>)";
// The same for tokenizer.json files (the file itself is identified by its content hash).
constexpr char kHfTokenizerRules[] =
    "hf-tokenizer-json-v1 (ft tokenize, specials kept on truncation, empty -> first special)";

// config.json's vocab_size in `model_folder`, or -1 when there is none.
int64_t FolderVocabSize(const std::string& model_folder) {
  if (model_folder.empty()) return -1;
  const std::filesystem::path config =
      std::filesystem::path(model_folder) / models::kModelConfigFile;
  std::ifstream in(config);
  if (!in) return -1;
  const nlohmann::json json = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object() || !json.contains("vocab_size") ||
      !json["vocab_size"].is_number_integer()) {
    return -1;
  }
  return json["vocab_size"].get<int64_t>();
}

// The ids of the bos/eos/unk/pad tokens named in tokenizer_config.json beside `tokenizer_file`
// (a plain string or an AddedToken object {"content": ...}), as far as the tokenizer knows them.
std::vector<int64_t> ConfigSpecialIds(const std::string& tokenizer_file,
                                      const tokenize::Tokenizer& tokenizer) {
  std::ifstream in(std::filesystem::path(tokenizer_file).parent_path() / "tokenizer_config.json");
  if (!in) return {};
  const nlohmann::json json = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object()) return {};
  std::vector<int64_t> ids;
  for (const char* key : {"bos_token", "eos_token", "unk_token", "pad_token"}) {
    const auto found = json.find(key);
    if (found == json.end()) continue;
    const nlohmann::json& value =
        found->is_object() && found->contains("content") ? (*found)["content"] : *found;
    if (!value.is_string()) continue;
    if (const auto id = tokenizer.TokenToId(value.get<std::string>())) ids.push_back(*id);
  }
  return ids;
}

}  // namespace

std::string TokenizerFileFor(const std::string& model) {
  if (model.empty() || models::IsScratchModelName(model)) return "";
  std::error_code error;
  if (!std::filesystem::is_directory(model, error)) return "";
  const std::filesystem::path file = std::filesystem::path(model) / "tokenizer.json";
  return std::filesystem::is_regular_file(file, error) ? file.string() : "";
}

std::string TokenizerFileFor(const std::string& model, const std::string& tokenizer) {
  if (tokenizer.empty()) return TokenizerFileFor(model);
  std::error_code error;
  if (std::filesystem::is_directory(tokenizer, error)) {
    return (std::filesystem::path(tokenizer) / "tokenizer.json").string();
  }
  return tokenizer;
}

JobTokenizer JobTokenizer::ForModel(const std::string& model, const std::string& spec_tokenizer) {
  JobTokenizer tokenizer;
  tokenizer.file_ = TokenizerFileFor(model, spec_tokenizer);
  std::error_code error;
  if (!models::IsScratchModelName(model) && std::filesystem::is_directory(model, error)) {
    tokenizer.model_folder_ = model;
  }
  tokenizer.empty_id_ = tokenize::ByteTokenizer::kUnkId;
  return tokenizer;
}

void JobTokenizer::Load() {
  if (file_.empty() || tokenizer_) return;
  std::shared_ptr<const tokenize::Tokenizer> tokenizer = tokenize::Tokenizer::FromFile(file_);
  const int64_t vocab_size = FolderVocabSize(model_folder_);
  if (vocab_size >= 0 && tokenizer->VocabSize() > vocab_size) {
    throw std::runtime_error(
        file_ + ": its ids go up to " + std::to_string(tokenizer->VocabSize() - 1) +
        ", beyond the vocab_size " + std::to_string(vocab_size) + " of the model's config.json");
  }
  empty_id_ = 0;
  for (const tokenize::AddedToken& token : tokenizer->added_tokens()) {
    if (token.special) {
      empty_id_ = token.id;
      break;
    }
  }
  config_special_ids_ = ConfigSpecialIds(file_, *tokenizer);
  tokenizer_ = std::move(tokenizer);
}

std::vector<int64_t> JobTokenizer::Encode(std::string_view text, int64_t max_length,
                                          bool add_special_tokens) const {
  std::vector<int64_t> ids;
  if (file_.empty()) {
    ids = tokenize::ByteTokenizer().Encode(text, max_length);
  } else {
    if (!tokenizer_) throw std::logic_error("JobTokenizer::Encode before Load");
    ids = tokenizer_->Encode(text, max_length, add_special_tokens);
  }
  if (ids.empty() && add_special_tokens) ids.push_back(empty_id_);
  return ids;
}

std::string JobTokenizer::Decode(const std::vector<int64_t>& ids) const {
  if (file_.empty()) return tokenize::ByteTokenizer().Decode(ids);
  if (!tokenizer_) throw std::logic_error("JobTokenizer::Decode before Load");
  std::vector<int64_t> kept;
  kept.reserve(ids.size());
  for (const int64_t id : ids) {
    if (std::find(config_special_ids_.begin(), config_special_ids_.end(), id) ==
        config_special_ids_.end()) {
      kept.push_back(id);
    }
  }
  return tokenizer_->Decode(kept, /*skip_special_tokens=*/true);
}

std::string JobTokenizer::CacheId() const {
  if (file_.empty()) return kByteTokenizerId;
  return std::string(kHfTokenizerRules) + " " + FileIdentity(file_);
}

}  // namespace ft::train
