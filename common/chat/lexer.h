// Splits a chat template into text and tag tokens the way Jinja2's lexer does under
// transformers' settings: newlines normalized to \n, one trailing newline dropped
// (keep_trailing_newline=False), `-` and `+` whitespace control, trim_blocks (the first newline
// after a block or comment tag is removed) and lstrip_blocks (spaces and tabs before a block or
// comment tag at the start of a line are removed). Comments are dropped.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace ft::chat {

struct Token {
  enum class Kind {
    kText,        // literal template text, whitespace control already applied
    kVarBegin,    // {{
    kVarEnd,      // }}
    kBlockBegin,  // {%
    kBlockEnd,    // %}
    kName,
    kString,  // value: the unescaped text
    kInt,
    kFloat,
    kOperator,  // value: the operator's spelling ("==", "(", "|", ...)
  };
  Kind kind;
  std::string value;
  int line;
};

// InvalidArgument naming the line for an unterminated tag, string or comment, or a character
// that is not part of Jinja's expression syntax.
absl::StatusOr<std::vector<Token>> Tokenize(const std::string& source);

}  // namespace ft::chat
