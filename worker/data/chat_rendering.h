// How the training core renders a chat row ({"messages": [...]}) without knowing chat templates:
// the daemon glue, which links the template engine (common/chat, abseil), hands it a renderer
// for the job's model folder. Standard library only, so the training core builds without abseil.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "common/data/lm_rows.h"

namespace ft::train {

struct RenderedChat {
  std::string text;
  // [begin, end) byte ranges of `text` holding the assistant turns (the loss's targets).
  std::vector<std::pair<std::size_t, std::size_t>> assistant_spans;
};

struct ChatRenderer {
  // Renders one conversation; throws std::runtime_error saying why it cannot (the template
  // raised, or does not render turns incrementally).
  std::function<RenderedChat(const std::vector<data::ChatTurn>&)> render;
  // Everything the rendering depends on (the template's text, the special tokens it sees), so
  // that the token cache keys chat rows by it: another template must never reuse their tokens.
  std::string cache_id;

  explicit operator bool() const { return static_cast<bool>(render); }
};

}  // namespace ft::train
