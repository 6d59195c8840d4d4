// Python's json.dumps() of a template value, which transformers installs as Jinja's `tojson`
// filter (ensure_ascii=False by default, keys in their order, optional indent and separators).
#pragma once

#include <optional>
#include <string>

#include "common/chat/value.h"

namespace ft::chat {

struct JsonDumpOptions {
  bool ensure_ascii = false;
  // json.dumps(indent=): a count of spaces or a string; unset puts everything on one line.
  std::optional<std::string> indent;
  // json.dumps(separators=); unset: (", ", ": ") on one line, (",", ": ") with an indent.
  std::optional<std::pair<std::string, std::string>> separators;
  bool sort_keys = false;
};

// Throws RenderError for what json.dumps refuses (undefined, namespaces, functions, odd keys).
std::string PyJsonDumps(const Value& value, const JsonDumpOptions& options);

}  // namespace ft::chat
