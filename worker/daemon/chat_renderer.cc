#include "worker/daemon/chat_renderer.h"

#include <filesystem>
#include <stdexcept>
#include <utility>

#include "common/chat/template_loader.h"

namespace ft::worker {

absl::StatusOr<train::ChatRenderer> ChatRendererFor(const std::string& model) {
  if (!std::filesystem::is_directory(model)) return train::ChatRenderer();
  absl::StatusOr<chat::ChatTemplate> loaded = chat::LoadChatTemplate(model);
  if (absl::IsNotFound(loaded.status())) return train::ChatRenderer();
  if (!loaded.ok()) return loaded.status();
  return train::ChatRenderer(
      [chat_template = *std::move(loaded)](const std::vector<data::ChatTurn>& turns) {
        absl::StatusOr<chat::RenderedConversation> rendered =
            chat_template.RenderWithAssistantSpans(turns);
        if (!rendered.ok()) throw std::runtime_error(std::string(rendered.status().message()));
        return train::RenderedChat{std::move(rendered->text),
                                   std::move(rendered->assistant_spans)};
      });
}

}  // namespace ft::worker
