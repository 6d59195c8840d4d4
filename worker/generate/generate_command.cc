#include "worker/generate/generate_command.h"

#include <memory>
#include <stdexcept>

#include "absl/status/status.h"
#include "common/chat/template_loader.h"
#include "worker/generate/causal_lm_folder.h"

namespace ft::generate {
namespace {

// The prompt as one user turn, rendered with add_generation_prompt as transformers'
// apply_chat_template does before generate().
absl::StatusOr<std::string> RenderChatPrompt(const std::string& folder,
                                             const std::string& prompt) {
  absl::StatusOr<chat::ChatTemplate> loaded = chat::LoadChatTemplate(folder);
  if (absl::IsNotFound(loaded.status())) {
    return absl::InvalidArgumentError(
        folder + ": --chat needs a chat template (tokenizer_config.json's chat_template or "
                 "chat_template.jinja), and this folder has none");
  }
  if (!loaded.ok()) return loaded.status();
  return loaded->Render({chat::ChatMessage{"user", prompt}}, /*add_generation_prompt=*/true);
}

}  // namespace

absl::StatusOr<std::string> RunGenerateCommand(const GenerateCommandOptions& options) {
  if (options.max_new_tokens < 0) {
    return absl::InvalidArgumentError("--max-new-tokens must be 0 or more");
  }
  std::unique_ptr<CausalLmFolder> folder;
  try {
    folder = CausalLmFolder::Open(options.model_dir, options.threads, options.log);
  } catch (const std::exception& error) {
    return absl::InvalidArgumentError(error.what());
  }
  std::string text = options.prompt;
  if (options.chat) {
    absl::StatusOr<std::string> rendered = RenderChatPrompt(options.model_dir, options.prompt);
    if (!rendered.ok()) return rendered.status();
    text = *std::move(rendered);
  }
  try {
    // Rendered chat text carries its own special tokens, as in training.
    return folder->Complete(text, /*add_special_tokens=*/!options.chat, options.max_new_tokens);
  } catch (const std::exception& error) {
    return absl::FailedPreconditionError(error.what());
  }
}

}  // namespace ft::generate
