// Finds a model folder's chat template as transformers does: `chat_template.jinja` beside
// tokenizer_config.json wins; otherwise tokenizer_config.json's `chat_template`, a string or a
// list of {"name", "template"} of which "default" is taken. Special tokens come from
// tokenizer_config.json (plain strings or AddedToken objects {"content": ...}), with
// special_tokens_map.json filling the ones it lacks.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "common/chat/chat_template.h"

namespace ft::chat {

// NotFound when the folder has no chat template; InvalidArgument naming the file for unreadable
// JSON or a template outside the supported subset.
absl::StatusOr<ChatTemplate> LoadChatTemplate(const std::string& model_folder);

}  // namespace ft::chat
