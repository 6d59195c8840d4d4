#include "common/chat/chat_message.h"

#include "absl/strings/str_cat.h"

namespace ft::chat {

absl::Status ValidateChatMessages(const std::vector<ChatMessage>& messages) {
  if (messages.empty()) return absl::InvalidArgumentError("messages: the conversation is empty");
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const std::string& role = messages[i].role;
    if (role != "system" && role != "user" && role != "assistant") {
      return absl::InvalidArgumentError(absl::StrCat(
          "messages[", i, "].role: \"", role, "\" is not one of system, user, assistant"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<ChatMessage>> ChatMessagesFromJson(const nlohmann::json& record) {
  if (!record.is_object()) return absl::InvalidArgumentError("the record is not a JSON object");
  const auto found = record.find("messages");
  if (found == record.end()) return absl::InvalidArgumentError("messages: missing");
  if (!found->is_array()) return absl::InvalidArgumentError("messages: expected an array");
  std::vector<ChatMessage> messages;
  for (std::size_t i = 0; i < found->size(); ++i) {
    const nlohmann::json& m = (*found)[i];
    const std::string where = absl::StrCat("messages[", i, "]");
    if (!m.is_object()) return absl::InvalidArgumentError(where + ": expected an object");
    ChatMessage message;
    for (const char* field : {"role", "content"}) {
      const auto member = m.find(field);
      if (member == m.end()) {
        return absl::InvalidArgumentError(absl::StrCat(where, ".", field, ": missing"));
      }
      if (!member->is_string()) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ".", field, ": expected a string, found ", member->type_name()));
      }
      (std::string(field) == "role" ? message.role : message.content) = member->get<std::string>();
    }
    messages.push_back(std::move(message));
  }
  absl::Status status = ValidateChatMessages(messages);
  if (!status.ok()) return status;
  return messages;
}

}  // namespace ft::chat
