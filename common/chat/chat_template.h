// A model's chat template, rendered as transformers' apply_chat_template renders it (Jinja2 in
// an immutable sandbox with trim_blocks and lstrip_blocks; context: messages, tools=None,
// documents=None, add_generation_prompt and the tokenizer's special tokens), and the byte spans
// of the assistant turns that training on chat data computes its loss on.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "common/chat/ast.h"
#include "common/chat/chat_message.h"

namespace ft::chat {

// The tokenizer's special tokens as the template sees them (bos_token, eos_token, unk_token,
// sep_token, pad_token, cls_token, mask_token; only those the tokenizer sets), and
// additional_special_tokens when it has any.
struct SpecialTokens {
  std::vector<std::pair<std::string, std::string>> named;
  std::vector<std::string> additional;
  bool has_additional = false;
};

struct RenderedConversation {
  std::string text;
  // One [begin, end) byte range of `text` per assistant message, in order: the text that follows
  // the generation prompt before it, through the end of its turn (end-of-turn tokens included).
  std::vector<std::pair<std::size_t, std::size_t>> assistant_spans;
};

class ChatTemplate {
 public:
  // Parses `source`; InvalidArgument naming the line and construct when it is outside the
  // supported subset (docs/chat_templates.md).
  static absl::StatusOr<ChatTemplate> Create(std::string source, SpecialTokens special_tokens);

  // apply_chat_template(messages, tokenize=False, add_generation_prompt=...). A
  // raise_exception() of the template gives InvalidArgument "chat_template raised: MESSAGE".
  absl::StatusOr<std::string> Render(const std::vector<ChatMessage>& messages,
                                     bool add_generation_prompt) const;

  // The whole conversation (add_generation_prompt=false) with the span of each assistant turn k:
  // from the end of messages[:k] rendered with the generation prompt to the end of messages[:k+1]
  // rendered without it. Each of those renderings must be a prefix of the next (the template
  // renders turns incrementally); otherwise FailedPrecondition says so and names the turn.
  //
  // transformers' own assistant mask (apply_chat_template(return_assistant_tokens_mask=True),
  // used by TRL's assistant_only_loss) instead marks the text inside {% generation %} blocks,
  // which only templates written for it have; the prefix method here works for every template
  // that renders turns incrementally, and for templates with {% generation %} blocks covers the
  // same content plus the end-of-turn text that follows it (so the model learns to stop).
  absl::StatusOr<RenderedConversation> RenderWithAssistantSpans(
      const std::vector<ChatMessage>& messages) const;

  const std::string& source() const { return source_; }
  const SpecialTokens& special_tokens() const { return special_tokens_; }

 private:
  ChatTemplate(std::string source, std::shared_ptr<const Body> body, SpecialTokens special_tokens)
      : source_(std::move(source)), body_(std::move(body)), special_tokens_(std::move(special_tokens)) {}

  std::string source_;
  std::shared_ptr<const Body> body_;  // shared: ChatTemplate is cheap to copy
  SpecialTokens special_tokens_;
};

}  // namespace ft::chat
