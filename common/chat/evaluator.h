// Renders parsed template statements against a context of variables, with Jinja2's scoping:
// the template's top level is one scope, each iteration of a for loop a new one (so `set` inside
// a loop does not leak out of it; namespace() objects carry values out), and names not set in
// the template come from the context, then from the globals (range, namespace, ...).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/chat/ast.h"
#include "common/chat/value.h"

namespace ft::chat {

struct RenderOutput {
  std::string text;
  // Byte ranges [begin, end) of the text rendered inside {% generation %} blocks.
  std::vector<std::pair<std::size_t, std::size_t>> generation_spans;
};

// InvalidArgument "chat_template line N: ..." for an error in the template or its data, and
// "chat_template raised: MESSAGE" for raise_exception(MESSAGE).
absl::StatusOr<RenderOutput> RenderBody(const Body& body, const ValuePairs& context);

}  // namespace ft::chat
