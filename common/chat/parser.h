// Parses the tokens of a chat template into statements. Everything outside the supported subset
// (docs/chat_templates.md) is refused here, before any rendering, with InvalidArgument naming the
// construct and its line: `chat_template line 3: unsupported filter 'wordwrap'`. So a model
// whose template uses macros, includes or an unknown filter is refused when a job is submitted.
#pragma once

#include <vector>

#include "absl/status/statusor.h"
#include "common/chat/ast.h"
#include "common/chat/lexer.h"

namespace ft::chat {

absl::StatusOr<Body> Parse(const std::vector<Token>& tokens);

}  // namespace ft::chat
