#include "worker/daemon/chat_renderer.h"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <utility>

#include "common/chat/template_loader.h"

namespace ft::worker {
namespace {

// The template's text and the special tokens it is rendered with.
std::string CacheId(const chat::ChatTemplate& chat_template) {
  const chat::SpecialTokens& tokens = chat_template.special_tokens();
  nlohmann::ordered_json json;
  json["template"] = chat_template.source();
  json["special_tokens"] = tokens.named;
  if (tokens.has_additional) json["additional_special_tokens"] = tokens.additional;
  return json.dump();
}

}  // namespace

absl::StatusOr<train::ChatRenderer> ChatRendererFor(const std::string& model) {
  if (!std::filesystem::is_directory(model)) return train::ChatRenderer();
  absl::StatusOr<chat::ChatTemplate> loaded = chat::LoadChatTemplate(model);
  if (absl::IsNotFound(loaded.status())) return train::ChatRenderer();
  if (!loaded.ok()) return loaded.status();
  train::ChatRenderer renderer;
  renderer.cache_id = CacheId(*loaded);
  renderer.render = [chat_template = *std::move(loaded)](
                        const std::vector<data::ChatTurn>& turns) {
    absl::StatusOr<chat::RenderedConversation> rendered =
        chat_template.RenderWithAssistantSpans(turns);
    if (!rendered.ok()) throw std::runtime_error(std::string(rendered.status().message()));
    return train::RenderedChat{std::move(rendered->text), std::move(rendered->assistant_spans)};
  };
  return renderer;
}

}  // namespace ft::worker
