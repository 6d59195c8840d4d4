#include "common/chat/chat_template.h"

#include "gtest/gtest.h"

namespace ft::chat {
namespace {

std::string Render(const std::string& source) {
  absl::StatusOr<ChatTemplate> t = ChatTemplate::Create(source, {});
  if (!t.ok()) return "PARSE: " + std::string(t.status().message());
  absl::StatusOr<std::string> out = t->Render({{"user", "hi"}}, false);
  if (!out.ok()) return "RENDER: " + std::string(out.status().message());
  return *out;
}

TEST(ChatTemplateTest, Smoke) { EXPECT_EQ(Render("{{ messages[0].content }}"), "hi"); }

}  // namespace
}  // namespace ft::chat
