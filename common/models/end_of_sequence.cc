#include "common/models/end_of_sequence.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/models/vocab_size.h"

namespace ft::models {

std::optional<int64_t> EosTokenId(const ModelConfig& config) {
  if (config.family == ModelFamily::kBloom) return config.bloom.eos_token_id;
  const nlohmann::json json = nlohmann::json::parse(config.config_json, nullptr, false);
  if (!json.is_object()) return std::nullopt;
  const auto found = json.find("eos_token_id");
  if (found == json.end()) return std::nullopt;
  if (found->is_number_integer()) return found->get<int64_t>();
  if (found->is_array() && !found->empty() && (*found)[0].is_number_integer()) {
    return (*found)[0].get<int64_t>();
  }
  return std::nullopt;
}

std::string EosTokenProblem(const ModelConfig& config) {
  const std::optional<int64_t> eos = EosTokenId(config);
  const int64_t vocab_size = VocabSize(config);
  if (!eos || (*eos >= 0 && *eos < vocab_size)) return "";
  const std::string file =
      config.source.empty() ? std::string("config.json")
                            : (std::filesystem::path(config.source) / "config.json").string();
  return file + ": eos_token_id " + std::to_string(*eos) +
         " is not an id of the model's vocabulary (vocab_size " + std::to_string(vocab_size) +
         "); a causal_lm job appends it to every example";
}

}  // namespace ft::models
