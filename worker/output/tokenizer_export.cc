#include "worker/output/tokenizer_export.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "common/util/atomic_file.h"
#include "common/tokenize/byte_tokenizer_json.h"
#include "worker/data/job_tokenizer.h"

namespace ft::train {
namespace {

std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path.string() + ": cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

void WriteTokenizerFiles(const std::string& model, const std::string& tokenizer,
                         int64_t max_seq_length, const std::string& output_dir) {
  const std::filesystem::path dir(output_dir);
  std::filesystem::create_directories(dir);
  const std::string source = TokenizerFileFor(model, tokenizer);
  if (source.empty()) {
    WriteFileAtomically((dir / "tokenizer.json").string(), tokenize::ByteTokenizerJson());
    WriteFileAtomically((dir / "tokenizer_config.json").string(),
                            tokenize::ByteTokenizerConfigJson(max_seq_length));
    return;
  }
  const std::filesystem::path folder = std::filesystem::path(source).parent_path();
  WriteFileAtomically((dir / "tokenizer.json").string(), ReadFile(source));
  if (std::filesystem::exists(folder / "special_tokens_map.json")) {
    WriteFileAtomically((dir / "special_tokens_map.json").string(),
                            ReadFile(folder / "special_tokens_map.json"));
  }
  if (std::filesystem::exists(folder / "tokenizer_config.json")) {
    WriteFileAtomically((dir / "tokenizer_config.json").string(),
                            ReadFile(folder / "tokenizer_config.json"));
  } else {
    const nlohmann::ordered_json config = {{"tokenizer_class", "PreTrainedTokenizerFast"},
                                           {"model_max_length", max_seq_length}};
    WriteFileAtomically((dir / "tokenizer_config.json").string(), config.dump(2) + "\n");
  }
}

}  // namespace ft::train
