// One message of an OpenAI-format chat record {"messages": [{"role": ..., "content": ...}]}, the
// checks the training data must pass, and its reading from a parsed JSON record.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ft::chat {

struct ChatMessage {
  std::string role;  // "system", "user" or "assistant"
  std::string content;
};

// InvalidArgument naming the field (`messages[2].role: "tool" is not one of system, user,
// assistant`) for an empty conversation or a role outside the three. The caller adds file:line.
absl::Status ValidateChatMessages(const std::vector<ChatMessage>& messages);

// Reads record["messages"]: an array of objects with string "role" and "content" (other members
// are ignored), then validates it. InvalidArgument naming the field otherwise.
absl::StatusOr<std::vector<ChatMessage>> ChatMessagesFromJson(const nlohmann::json& record);

}  // namespace ft::chat
