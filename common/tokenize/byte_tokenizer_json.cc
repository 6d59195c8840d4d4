#include "common/tokenize/byte_tokenizer_json.h"

#include <nlohmann/json.hpp>

#include "common/tokenize/byte_level.h"

namespace ft::tokenize {
namespace {

const char* const kSpecials[] = {"<unk>", "<s>", "</s>", "<pad>"};

}  // namespace

std::string ByteTokenizerJson() {
  using Json = nlohmann::ordered_json;
  Json byte_level = {{"type", "ByteLevel"},
                     {"add_prefix_space", false},
                     {"trim_offsets", false},
                     {"use_regex", false}};
  Json vocab = Json::object();
  for (int64_t id = 0; id < kByteTokenizerOffset; ++id) vocab[kSpecials[id]] = id;
  for (int b = 0; b < 256; ++b) {
    vocab[ByteLevelChar(static_cast<unsigned char>(b))] = kByteTokenizerOffset + b;
  }
  Json model = {{"type", "BPE"},
                {"dropout", nullptr},
                {"unk_token", "<unk>"},
                {"continuing_subword_prefix", nullptr},
                {"end_of_word_suffix", nullptr},
                {"fuse_unk", false},
                {"byte_fallback", false},
                {"ignore_merges", false},
                {"vocab", vocab},
                {"merges", Json::array()}};
  Json json = {{"version", "1.0"},
               {"truncation", nullptr},
               {"padding", nullptr},
               {"added_tokens", Json::array()},
               {"normalizer", nullptr},
               {"pre_tokenizer", byte_level},
               {"post_processor", nullptr},
               {"decoder", byte_level},
               {"model", model}};
  return json.dump(2) + "\n";
}

std::string ByteTokenizerConfigJson(int64_t model_max_length) {
  nlohmann::ordered_json config = {{"tokenizer_class", "PreTrainedTokenizerFast"},
                                   {"model_max_length", model_max_length},
                                   {"padding_side", "right"},
                                   {"truncation_side", "right"},
                                   {"clean_up_tokenization_spaces", false},
                                   {"unk_token", kSpecials[0]},
                                   {"bos_token", kSpecials[1]},
                                   {"eos_token", kSpecials[2]},
                                   {"pad_token", kSpecials[3]}};
  return config.dump(2) + "\n";
}

}  // namespace ft::tokenize
