#include "common/data/lm_rows.h"

#include <nlohmann/json.hpp>

#include "common/data/dataset.h"
#include "common/data/readers.h"

namespace ft::data {
namespace {

using Json = nlohmann::ordered_json;

std::string StringField(const Json& object, const char* key, const std::string& where,
                        const std::string& file, std::size_t line) {
  const Json& value = object.at(key);
  if (!value.is_string()) {
    throw DataError(file, line, 0,
                    where + "\"" + key + "\" must be a string, got " + value.type_name());
  }
  return value.get<std::string>();
}

std::vector<ChatTurn> ReadMessages(const Json& messages, const std::string& file,
                                   std::size_t line) {
  if (!messages.is_array() || messages.empty()) {
    throw DataError(file, line, 0, "\"messages\" must be a non-empty array of {\"role\", \"content\"}");
  }
  std::vector<ChatTurn> turns;
  bool has_assistant = false;
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const Json& message = messages[i];
    const std::string where = "messages[" + std::to_string(i) + "].";
    if (!message.is_object()) {
      throw DataError(file, line, 0,
                      "messages[" + std::to_string(i) + "] must be an object, got " +
                          message.type_name());
    }
    for (const char* key : {"role", "content"}) {
      if (!message.contains(key)) {
        throw DataError(file, line, 0, where + key + " is missing");
      }
    }
    ChatTurn turn;
    turn.role = StringField(message, "role", where, file, line);
    turn.content = StringField(message, "content", where, file, line);
    if (turn.role != "system" && turn.role != "user" && turn.role != "assistant") {
      throw DataError(file, line, 0,
                      where + "role: unknown role \"" + turn.role +
                          "\" (expected system, user or assistant)");
    }
    has_assistant = has_assistant || turn.role == "assistant";
    turns.push_back(std::move(turn));
  }
  if (!has_assistant) {
    throw DataError(file, line, 0,
                    "\"messages\" has no assistant turn: nothing to train on");
  }
  return turns;
}

}  // namespace

const char* LmRowKindName(LmRow::Kind kind) {
  switch (kind) {
    case LmRow::Kind::kPromptCompletion: return "prompt/completion";
    case LmRow::Kind::kText: return "text";
    case LmRow::Kind::kMessages: return "messages";
  }
  return "unknown";
}

std::vector<LmRow> ReadLmRows(const std::string& path) {
  const std::string data = internal::ReadTextFile(path);
  std::vector<LmRow> rows;
  internal::ForEachJsonlObject(data, path, [&](std::size_t line, const Json& object) {
    const bool prompt = object.contains("prompt");
    const bool completion = object.contains("completion");
    const bool text = object.contains("text");
    const bool messages = object.contains("messages");
    const int shapes = (prompt || completion ? 1 : 0) + (text ? 1 : 0) + (messages ? 1 : 0);
    if (shapes != 1) {
      throw DataError(path, line, 0,
                      shapes == 0 ? "expected \"prompt\" and \"completion\", \"text\" or "
                                    "\"messages\"; the row has none of them"
                                  : "the row mixes \"prompt\"/\"completion\", \"text\" and "
                                    "\"messages\": give exactly one of them");
    }
    LmRow row;
    row.line = line;
    if (prompt || completion) {
      if (!prompt || !completion) {
        throw DataError(path, line, 0,
                        std::string("\"") + (prompt ? "completion" : "prompt") +
                            "\" is missing: prompt and completion go together");
      }
      row.kind = LmRow::Kind::kPromptCompletion;
      row.prompt = StringField(object, "prompt", "", path, line);
      row.completion = StringField(object, "completion", "", path, line);
    } else if (text) {
      row.kind = LmRow::Kind::kText;
      row.text = StringField(object, "text", "", path, line);
    } else {
      row.kind = LmRow::Kind::kMessages;
      row.messages = ReadMessages(object.at("messages"), path, line);
    }
    rows.push_back(std::move(row));
    return true;
  });
  if (rows.empty()) throw DataError(path, 0, 0, "no examples: the file has no JSON records");
  return rows;
}

}  // namespace ft::data
