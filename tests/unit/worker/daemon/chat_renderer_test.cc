// The chat renderer a causal-LM job gets from its model folder (worker/daemon/chat_renderer.h):
// it renders with the folder's template, and its cache_id, which keys chat rows in the token
// cache, changes with the template's text and with the special tokens the template sees.
#include "worker/daemon/chat_renderer.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/support/temp_dir.h"

namespace ft::worker {
namespace {

constexpr char kTemplate[] =
    "{% for m in messages %}<{{ m.role }}>{{ m.content }}{{ eos_token }}{% endfor %}";

std::string TokenizerConfig(const std::string& chat_template, const std::string& eos) {
  return "{\"chat_template\": \"" + chat_template + "\", \"eos_token\": \"" + eos + "\"}";
}

train::ChatRenderer RendererFor(const std::string& folder) {
  absl::StatusOr<train::ChatRenderer> renderer = ChatRendererFor(folder);
  EXPECT_TRUE(renderer.ok()) << renderer.status();
  return renderer.ok() ? *renderer : train::ChatRenderer();
}

TEST(ChatRendererTest, RendersTheFolderTemplateAndNamesItInItsCacheId) {
  ft::testing::TempDir dir;
  const std::string folder = (dir.path() / "model").string();
  dir.Write("model/tokenizer_config.json", TokenizerConfig(kTemplate, "</s>"));
  const train::ChatRenderer renderer = RendererFor(folder);
  ASSERT_TRUE(renderer);
  const train::RenderedChat chat = renderer.render({{"user", "hi"}, {"assistant", "yo"}});
  EXPECT_EQ(chat.text, "<user>hi</s><assistant>yo</s>");
  EXPECT_EQ(RendererFor(folder).cache_id, renderer.cache_id) << "the same folder, the same id";

  dir.Write("model/tokenizer_config.json", TokenizerConfig(kTemplate, "<|end|>"));
  const std::string other_eos = RendererFor(folder).cache_id;
  EXPECT_NE(other_eos, renderer.cache_id);
  dir.Write("model/tokenizer_config.json",
            TokenizerConfig(std::string(kTemplate) + "\\n", "<|end|>"));
  EXPECT_NE(RendererFor(folder).cache_id, other_eos) << "another template text";
}

TEST(ChatRendererTest, ScratchModelsHaveNone) {
  const train::ChatRenderer renderer = RendererFor("scratch:bloom-tiny");
  EXPECT_FALSE(renderer);
  EXPECT_TRUE(renderer.cache_id.empty());
}

}  // namespace
}  // namespace ft::worker
