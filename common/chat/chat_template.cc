#include "common/chat/chat_template.h"

#include "absl/strings/str_cat.h"
#include "common/chat/evaluator.h"
#include "common/chat/lexer.h"
#include "common/chat/parser.h"
#include "common/util/status_macros.h"

namespace ft::chat {

absl::StatusOr<ChatTemplate> ChatTemplate::Create(std::string source, SpecialTokens special_tokens) {
  FT_ASSIGN_OR_RETURN(const std::vector<Token> tokens, Tokenize(source));
  FT_ASSIGN_OR_RETURN(Body body, Parse(tokens));
  return ChatTemplate(std::move(source), std::make_shared<const Body>(std::move(body)),
                      std::move(special_tokens));
}

absl::StatusOr<std::string> ChatTemplate::Render(const std::vector<ChatMessage>& messages,
                                                 bool add_generation_prompt) const {
  ValueList message_values;
  for (const ChatMessage& m : messages) {
    message_values.push_back(Value::Dict({{Value::String("role"), Value::String(m.role)},
                                          {Value::String("content"), Value::String(m.content)}}));
  }
  ValuePairs context = {
      {Value::String("messages"), Value::List(std::move(message_values))},
      {Value::String("tools"), Value::None()},
      {Value::String("documents"), Value::None()},
      {Value::String("add_generation_prompt"), Value::Bool(add_generation_prompt)},
  };
  for (const auto& [name, token] : special_tokens_.named) {
    context.emplace_back(Value::String(name), Value::String(token));
  }
  if (special_tokens_.has_additional) {
    ValueList additional;
    for (const std::string& token : special_tokens_.additional) {
      additional.push_back(Value::String(token));
    }
    context.emplace_back(Value::String("additional_special_tokens"),
                         Value::List(std::move(additional)));
  }
  FT_ASSIGN_OR_RETURN(RenderOutput output, RenderBody(*body_, context));
  return std::move(output.text);
}

absl::StatusOr<RenderedConversation> ChatTemplate::RenderWithAssistantSpans(
    const std::vector<ChatMessage>& messages) const {
  RenderedConversation result;
  FT_ASSIGN_OR_RETURN(result.text, Render(messages, /*add_generation_prompt=*/false));
  for (std::size_t k = 0; k < messages.size(); ++k) {
    if (messages[k].role != "assistant") continue;
    const std::vector<ChatMessage> before(messages.begin(), messages.begin() + k);
    const std::vector<ChatMessage> through(messages.begin(), messages.begin() + k + 1);
    FT_ASSIGN_OR_RETURN(const std::string prefix, Render(before, /*add_generation_prompt=*/true));
    FT_ASSIGN_OR_RETURN(const std::string through_k,
                        Render(through, /*add_generation_prompt=*/false));
    if (through_k.compare(0, prefix.size(), prefix) != 0 || prefix.size() > through_k.size() ||
        result.text.compare(0, through_k.size(), through_k) != 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the chat template does not render turns incrementally: the rendering of messages[0:",
          k, "] with the generation prompt, then of messages[0:", k + 1,
          "], are not prefixes of the whole conversation's, so the span of assistant message ", k,
          " cannot be found"));
    }
    result.assistant_spans.emplace_back(prefix.size(), through_k.size());
  }
  return result;
}

}  // namespace ft::chat
