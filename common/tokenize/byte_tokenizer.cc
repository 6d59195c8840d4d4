#include "common/tokenize/byte_tokenizer.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace ft::tokenize {

std::vector<int64_t> ByteTokenizer::Encode(std::string_view text, int64_t max_length) const {
  const std::size_t length =
      std::min(text.size(), static_cast<std::size_t>(std::max<int64_t>(max_length, 0)));
  std::vector<int64_t> ids(length);
  for (std::size_t i = 0; i < length; ++i) {
    ids[i] = kByteOffset + static_cast<unsigned char>(text[i]);
  }
  return ids;
}

std::string ByteTokenizer::Decode(const std::vector<int64_t>& ids) const {
  std::string text;
  text.reserve(ids.size());
  for (int64_t id : ids) {
    if (id >= kByteOffset && id < kVocabSize) text.push_back(static_cast<char>(id - kByteOffset));
  }
  return text;
}

std::string ByteTokenizer::ConfigJson(int64_t max_length) const {
  nlohmann::ordered_json config;
  config["tokenizer_class"] = "FtByteTokenizer";
  config["scheme"] = "utf8-bytes";
  config["description"] =
      "id = 4 + byte value of the UTF-8 text; ids 0..3 are special; no special tokens are added; "
      "texts are truncated to model_max_length bytes (head kept); padding on the right";
  config["byte_offset"] = kByteOffset;
  config["vocab_size"] = kVocabSize;
  config["model_max_length"] = max_length;
  config["padding_side"] = "right";
  config["add_special_tokens"] = false;
  config["unk_token"] = "<unk>";
  config["bos_token"] = "<s>";
  config["eos_token"] = "</s>";
  config["pad_token"] = "<pad>";
  config["special_tokens"] = {
      {"<unk>", kUnkId}, {"<s>", kBosId}, {"</s>", kEosId}, {"<pad>", kPadId}};
  return config.dump(2) + "\n";
}

}  // namespace ft::tokenize
