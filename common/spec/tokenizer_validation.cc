#include "common/spec/tokenizer_validation.h"

#include <cstdint>
#include <filesystem>
#include <optional>

#include "absl/strings/str_cat.h"
#include "common/models/hf_config.h"
#include "common/models/model_catalog.h"
#include "common/models/model_config.h"
#include "common/models/model_folder.h"
#include "common/models/vocab_size.h"
#include "common/tokenize/tokenizer.h"

namespace ft::spec {
namespace {

// The model's vocab_size, or nullopt when it is not known here (a Hub id the worker fetches, a
// folder whose config.json spec.model's own check refuses).
std::optional<int64_t> ModelVocabSize(const std::string& model) {
  if (models::IsScratchModelName(model)) {
    const std::optional<models::ScratchModel> scratch = models::FindScratchModel(model);
    if (!scratch) return std::nullopt;
    if (scratch->hf_config_json.empty()) return scratch->bloom.vocab_size;
    return models::VocabSize(models::ParseModelConfigJson(scratch->hf_config_json, model));
  }
  std::error_code error;
  if (!std::filesystem::is_directory(model, error)) return std::nullopt;
  try {
    return models::VocabSize(models::ReadModelFolderConfig(model));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace

std::vector<std::string> TokenizerProblems(const ft::v1::JobSpec& spec) {
  const std::string& path = spec.tokenizer();
  if (path.empty()) return {};
  std::error_code error;
  std::filesystem::path file(path);
  if (std::filesystem::is_directory(file, error)) file /= "tokenizer.json";
  if (!std::filesystem::exists(file, error)) {
    return {absl::StrCat("spec.tokenizer: ", file.string(),
                         ": no such file (a tokenizer.json, or a folder holding one)")};
  }
  // Checked before anything is read: ftd validates in its SubmitJob handler, and a device or a
  // pipe (or a procfs file, which claims size 0) could block it or feed it without end.
  if (!std::filesystem::is_regular_file(file, error)) {
    return {absl::StrCat("spec.tokenizer: ", file.string(), ": not a regular file")};
  }
  const std::uintmax_t size = std::filesystem::file_size(file, error);
  if (error || size == 0 || size > kMaxTokenizerFileBytes) {
    return {absl::StrCat("spec.tokenizer: ", file.string(), ": ", error ? 0 : size,
                         " bytes; a tokenizer.json holds 1 byte to ",
                         kMaxTokenizerFileBytes >> 20, " MiB")};
  }
  int64_t tokenizer_vocab = 0;
  try {
    tokenizer_vocab = tokenize::Tokenizer::FromFile(file.string())->VocabSize();
  } catch (const std::exception& e) {
    // The loader's message names the file and what in it cannot be used.
    return {absl::StrCat("spec.tokenizer: ", e.what())};
  }
  const std::optional<int64_t> model_vocab = ModelVocabSize(spec.model());
  if (model_vocab && tokenizer_vocab > *model_vocab) {
    return {absl::StrCat("spec.tokenizer: ", file.string(), ": its ids go up to ",
                         tokenizer_vocab - 1, ", beyond the vocab_size ", *model_vocab, " of ",
                         spec.model())};
  }
  return {};
}

}  // namespace ft::spec
