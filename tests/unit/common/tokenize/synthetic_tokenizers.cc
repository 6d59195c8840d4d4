#include "tests/unit/common/tokenize/synthetic_tokenizers.h"

namespace ft::tokenize {

std::vector<NamedTokenizerJson> Gpt2StylePipelines(const nlohmann::json& gpt2) {
  const nlohmann::json byte_level = {{"type", "ByteLevel"},
                                     {"add_prefix_space", false},
                                     {"trim_offsets", true},
                                     {"use_regex", false}};
  const auto split_then_bytes = [&](const std::string& regex) {
    return nlohmann::json{{"type", "Sequence"},
                          {"pretokenizers",
                           {{{"type", "Split"},
                             {"pattern", {{"Regex", regex}}},
                             {"behavior", "Isolated"},
                             {"invert", false}},
                            byte_level}}};
  };
  const std::string llama3 =
      R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
  const std::string qwen2 =
      R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
  const std::string bloom =
      " ?[^(\\s|[.,!?\xE2\x80\xA6\xE3\x80\x82\xEF\xBC\x8C\xE3\x80\x81\xE0\xA5\xA4\xDB\x94\xD8\x8C])"
      "]+";

  nlohmann::json llama = gpt2;
  llama["pre_tokenizer"] = split_then_bytes(llama3);
  llama["model"]["ignore_merges"] = true;
  llama["post_processor"] = {
      {"type", "Sequence"},
      {"processors",
       {{{"type", "ByteLevel"},
         {"add_prefix_space", true},
         {"trim_offsets", false},
         {"use_regex", true}},
        {{"type", "TemplateProcessing"},
         {"single",
          {{{"SpecialToken", {{"id", "<|endoftext|>"}, {"type_id", 0}}}},
           {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
         {"pair",
          {{{"Sequence", {{"id", "A"}, {"type_id", 0}}}},
           {{"Sequence", {{"id", "B"}, {"type_id", 1}}}}}},
         {"special_tokens",
          {{"<|endoftext|>",
            {{"id", "<|endoftext|>"}, {"ids", {50256}}, {"tokens", {"<|endoftext|>"}}}}}}}}}};
  nlohmann::json qwen = gpt2;
  qwen["pre_tokenizer"] = split_then_bytes(qwen2);
  qwen["normalizer"] = {{"type", "NFC"}};
  nlohmann::json bloom_like = gpt2;
  bloom_like["pre_tokenizer"] = split_then_bytes(bloom);
  return {{"llama3", llama}, {"qwen2", qwen}, {"bloom", bloom_like}};
}

std::vector<NamedTokenizerJson> CharacterClassPipelines(const nlohmann::json& bert) {
  nlohmann::json split = bert;
  split["normalizer"] = {{"type", "Sequence"},
                         {"normalizers",
                          {{{"type", "NFKC"}},
                           {{"type", "NFD"}},
                           {{"type", "StripAccents"}},
                           {{"type", "Lowercase"}},
                           {{"type", "Strip"}, {"strip_left", true}, {"strip_right", true}}}}};
  split["pre_tokenizer"] = {{"type", "Sequence"},
                            {"pretokenizers",
                             {{{"type", "WhitespaceSplit"}},
                              {{"type", "Punctuation"}, {"behavior", "Isolated"}},
                              {{"type", "Digits"}, {"individual_digits", true}}}}};
  nlohmann::json whitespace = bert;
  whitespace["normalizer"] = {{"type", "BertNormalizer"},
                              {"clean_text", true},
                              {"handle_chinese_chars", true},
                              {"strip_accents", false},
                              {"lowercase", false}};
  whitespace["pre_tokenizer"] = {{"type", "Whitespace"}};
  return {{"wordpiece-split-classes", split}, {"wordpiece-whitespace", whitespace}};
}

}  // namespace ft::tokenize
