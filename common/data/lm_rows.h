// Reading the examples of a causal language-model job (JobSpec.task "causal_lm") from JSON Lines:
// every row is one of
//   {"prompt": "...", "completion": "..."}   loss on the completion (the prompt too on request)
//   {"text": "..."}                           loss on every token
//   {"messages": [{"role": "system" | "user" | "assistant", "content": "..."}, ...]}
//                                             the OpenAI chat format, rendered with the model's
//                                             chat template; loss on the assistant turns
// Other keys are ignored. Standard library + nlohmann_json: ftd checks files with it at SubmitJob,
// the worker reads them.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace ft::data {

struct ChatTurn {
  std::string role;
  std::string content;
};

struct LmRow {
  enum class Kind { kPromptCompletion, kText, kMessages };
  Kind kind = Kind::kText;
  std::string prompt;      // kPromptCompletion
  std::string completion;  // kPromptCompletion
  std::string text;        // kText
  std::vector<ChatTurn> messages;  // kMessages: at least one assistant turn
  std::size_t line = 0;            // 1-based line in the file
};

// Every row of the file. Throws DataError naming the file, the line and the field for a row that
// is not a JSON object, has none or several of the three shapes, a value that is not a string, a
// message without role or content, an unknown role, a conversation without an assistant turn,
// or a file without rows.
std::vector<LmRow> ReadLmRows(const std::string& path);

// "prompt/completion", "text" or "messages", for messages and reports.
const char* LmRowKindName(LmRow::Kind kind);

}  // namespace ft::data
