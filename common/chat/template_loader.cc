#include "common/chat/template_loader.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "common/util/status_macros.h"

namespace ft::chat {
namespace {

namespace fs = std::filesystem;

absl::StatusOr<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path.string(), ": cannot be read"));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// nlohmann (the parser ft's JSON readers share); an absent file reads as null.
absl::StatusOr<nlohmann::json> ReadJson(const fs::path& path) {
  std::error_code error;
  if (!fs::exists(path, error)) return nlohmann::json();
  FT_ASSIGN_OR_RETURN(const std::string text, ReadFile(path));
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    // parse_error, and out_of_range for numbers past double's range.
    return absl::InvalidArgumentError(absl::StrCat(path.string(), ": malformed JSON: ", e.what()));
  }
}

// A special token as tokenizer_config.json spells it: a string or an AddedToken object.
absl::StatusOr<std::string> TokenText(const nlohmann::json& token, const std::string& where) {
  if (token.is_string()) return token.get<std::string>();
  if (token.is_object()) {
    const auto content = token.find("content");
    if (content != token.end() && content->is_string()) return content->get<std::string>();
  }
  return absl::InvalidArgumentError(
      absl::StrCat(where, ": expected a string or an object with a string \"content\""));
}

absl::Status ReadSpecialTokens(const nlohmann::json& config, const std::string& file,
                               SpecialTokens& tokens) {
  if (!config.is_object()) return absl::OkStatus();
  static const char* const kNames[] = {"bos_token", "eos_token",  "unk_token", "sep_token",
                                       "pad_token", "cls_token", "mask_token"};
  for (const char* name : kNames) {
    const auto found = config.find(name);
    if (found == config.end() || found->is_null()) continue;
    bool present = false;
    for (const auto& [existing, text] : tokens.named) present = present || existing == name;
    if (present) continue;
    FT_ASSIGN_OR_RETURN(std::string text, TokenText(*found, absl::StrCat(file, ": ", name)));
    tokens.named.emplace_back(name, std::move(text));
  }
  const auto additional = config.find("additional_special_tokens");
  if (!tokens.has_additional && additional != config.end() && additional->is_array()) {
    tokens.has_additional = true;
    for (std::size_t i = 0; i < additional->size(); ++i) {
      FT_ASSIGN_OR_RETURN(
          std::string text,
          TokenText((*additional)[i], absl::StrCat(file, ": additional_special_tokens[", i, "]")));
      tokens.additional.push_back(std::move(text));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> TemplateFromConfig(const nlohmann::json& config,
                                               const std::string& file) {
  if (!config.is_object()) return absl::NotFoundError(absl::StrCat(file, ": no chat_template"));
  const auto found = config.find("chat_template");
  if (found == config.end() || found->is_null()) {
    return absl::NotFoundError(absl::StrCat(file, ": no chat_template"));
  }
  if (found->is_string()) return found->get<std::string>();
  if (found->is_array()) {
    for (const nlohmann::json& entry : *found) {
      if (entry.is_object() && entry.value("name", "") == "default") {
        const auto text = entry.find("template");
        if (text != entry.end() && text->is_string()) return text->get<std::string>();
      }
    }
    return absl::InvalidArgumentError(absl::StrCat(
        file, ": chat_template lists several templates and none is named \"default\""));
  }
  return absl::InvalidArgumentError(
      absl::StrCat(file, ": chat_template: expected a string or a list of {name, template}"));
}

}  // namespace

absl::StatusOr<ChatTemplate> LoadChatTemplate(const std::string& model_folder) {
  const fs::path folder(model_folder);
  const fs::path config_path = folder / "tokenizer_config.json";
  FT_ASSIGN_OR_RETURN(const nlohmann::json config, ReadJson(config_path));
  FT_ASSIGN_OR_RETURN(const nlohmann::json special_map, ReadJson(folder / "special_tokens_map.json"));
  SpecialTokens tokens;
  FT_RETURN_IF_ERROR(ReadSpecialTokens(config, config_path.string(), tokens));
  FT_RETURN_IF_ERROR(
      ReadSpecialTokens(special_map, (folder / "special_tokens_map.json").string(), tokens));

  const fs::path jinja_path = folder / "chat_template.jinja";
  std::error_code error;
  std::string source;
  std::string origin;
  if (fs::exists(jinja_path, error)) {
    FT_ASSIGN_OR_RETURN(source, ReadFile(jinja_path));
    origin = jinja_path.string();
  } else {
    absl::StatusOr<std::string> from_config = TemplateFromConfig(config, config_path.string());
    if (!from_config.ok()) {
      if (absl::IsNotFound(from_config.status())) {
        return absl::NotFoundError(absl::StrCat(model_folder,
                                                ": no chat template (neither chat_template.jinja "
                                                "nor tokenizer_config.json's chat_template)"));
      }
      return from_config.status();
    }
    source = *std::move(from_config);
    origin = config_path.string() + " chat_template";
  }
  absl::StatusOr<ChatTemplate> parsed = ChatTemplate::Create(std::move(source), std::move(tokens));
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(origin, ": ", parsed.status().message()));
  }
  return parsed;
}

}  // namespace ft::chat
