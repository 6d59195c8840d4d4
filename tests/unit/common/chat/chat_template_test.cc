// Unit tests of common/chat. The expected strings of the rendering tests were produced by Jinja2
// 3.1 configured as transformers configures it (tests/chat/chat_reference.py's environment).
#include "common/chat/chat_template.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "common/chat/template_loader.h"
#include "gtest/gtest.h"

namespace ft::chat {
namespace {

const std::vector<ChatMessage> kMessages = {{"user", "hi"}, {"assistant", "yo"}};

std::string Render(const std::string& source,
                   const std::vector<ChatMessage>& messages = kMessages) {
  absl::StatusOr<ChatTemplate> t = ChatTemplate::Create(source, {});
  if (!t.ok()) return "PARSE: " + std::string(t.status().message());
  absl::StatusOr<std::string> out = t->Render(messages, false);
  if (!out.ok()) return "RENDER: " + std::string(out.status().message());
  return *out;
}

std::string ParseError(const std::string& source) {
  absl::StatusOr<ChatTemplate> t = ChatTemplate::Create(source, {});
  EXPECT_FALSE(t.ok()) << source;
  if (t.ok()) return "";
  EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(t.status().message());
}

TEST(ChatTemplateWhitespaceTest, LstripAndTrimBlocks) {
  // lstrip_blocks removes the indentation before a block tag, trim_blocks the newline after it;
  // neither touches the indentation of text or of {{ }}.
  EXPECT_EQ(Render("  {% if true %}\n    x\n  {% endif %}\ny"), "    x\ny");
  EXPECT_EQ(Render("{% for m in messages %}\n  [{{ m.role }}]\n{% endfor %}\n"),
            "  [user]\n  [assistant]\n");
}

TEST(ChatTemplateWhitespaceTest, MinusAndPlusControl) {
  EXPECT_EQ(Render("a  {{- ' b ' -}}  c"), "a b c");
  EXPECT_EQ(Render("a\n  {%+ if true %}b{% endif %}"), "a\n  b");  // + keeps the indentation
  EXPECT_EQ(Render("a {%- if true +%}\nb{% endif %}"), "a\nb");   // +%} keeps the newline
  EXPECT_EQ(Render("{# c #}\n  {#- d -#}  z"), "z");
}

TEST(ChatTemplateWhitespaceTest, OneTrailingNewlineOfTheSourceIsDropped) {
  EXPECT_EQ(Render("x\n"), "x");
  EXPECT_EQ(Render("x\n\n"), "x\n");
  EXPECT_EQ(Render("a\r\nb"), "a\nb");
}

TEST(ChatTemplateRenderTest, PythonValuesAndOperators) {
  EXPECT_EQ(Render("{{ [1, 'a', none, true, 1.5, {'k': (1,)}] }}|{{ 7 // 2 }} {{ -7 // 2 }} "
                   "{{ 7 % -3 }} {{ 2 ** 10 }} {{ 1 / 4 }} {{ 1e16 }} {{ 0.1 + 0.2 }}"),
            "[1, 'a', None, True, 1.5, {'k': (1,)}]|3 -4 -2 1024 0.25 1e+16 0.30000000000000004");
  EXPECT_EQ(Render("{{ 'abcdef'[::-1] }} {{ 'abcdef'[1:-1:2] }} {{ [1,2,3][-1] }} "
                   "{{ 'x' ~ none ~ 1 }} {{ undefined_thing }}|{{ undefined_thing is defined }}"),
            "fedcba bd 3 xNone1 |False");
  EXPECT_EQ(Render("{{ 'a\\tb\\u00e9\\x41' }}|{{ \"it's\" }}|{{ 'multi' 'part' }}"),
            "a\tb\xC3\xA9" "A|it's|multipart");
}

TEST(ChatTemplateRenderTest, TojsonIsTransformersJsonDumps) {
  EXPECT_EQ(Render("{{ {'b': '\xC3\xA9\"', 'a': [1, 2.0, none]} | tojson }}|"
                   "{{ {'a': 1} | tojson(indent=2) }}"),
            "{\"b\": \"\xC3\xA9\\\"\", \"a\": [1, 2.0, null]}|{\n  \"a\": 1\n}");
}

TEST(ChatTemplateRenderTest, LoopsNamespacesAndLoopControls) {
  EXPECT_EQ(Render("{% set ns = namespace(n=0) %}{% for x in [1,2,3,4] if x is even %}"
                   "{{ loop.index }}/{{ loop.length }}{% if loop.last %}!{% endif %}"
                   "{% set ns.n = ns.n + x %}{% endfor %}{{ ns.n }}"),
            "1/22/2!6");
  EXPECT_EQ(Render("{% for x in [] %}a{% else %}empty{% endfor %}{% for x in [1,2,3] %}"
                   "{% if x == 2 %}{% continue %}{% endif %}{{ x }}{% if x == 3 %}{% break %}"
                   "{% endif %}{% endfor %}"),
            "empty13");
  // `set` inside a loop does not leak out of it.
  EXPECT_EQ(Render("{% set x = 1 %}{% for m in messages %}{% set x = 2 %}{% endfor %}{{ x }}"), "1");
}

TEST(ChatTemplateRenderTest, MethodsFiltersAndTests) {
  EXPECT_EQ(Render("{{ '  Hi There  '.strip().lower() }}|{{ 'a,b,,c'.split(',') }}|"
                   "{{ 'hello world' | title }}|{{ 'x' if false }}|{{ 'yes' if 1 else 'no' }}"),
            "hi there|['a', 'b', '', 'c']|Hello World||yes");
  EXPECT_EQ(Render("{{ messages | selectattr('role', 'equalto', 'user') | map(attribute='content')"
                   " | join(', ') }}|{{ messages[0].get('missing', 'dflt') }}|"
                   "{{ (messages | first).role }}"),
            "hi|dflt|user");
}

TEST(ChatTemplateRenderTest, UndefinedUsedAsDataFailsNamingIt) {
  EXPECT_EQ(Render("{{ nothing.attribute }}"),
            "RENDER: chat_template line 1: UndefinedError: 'nothing' is undefined");
  EXPECT_EQ(Render("x\n{{ messages[0].content + 1 }}"),
            "RENDER: chat_template line 2: TypeError: can only concatenate str (not \"int\") to str");
}

TEST(ChatTemplateRenderTest, RaiseExceptionCarriesTheTemplatesMessage) {
  EXPECT_EQ(Render("{% if messages[0].role != 'system' %}{{ raise_exception('System first!') }}"
                   "{% endif %}"),
            "RENDER: chat_template raised: System first!");
}

TEST(ChatTemplateParseTest, RefusesUnsupportedConstructsNamingThemAndTheirLine) {
  EXPECT_EQ(ParseError("a\nb\n{{ messages | wordwrap }}"),
            "chat_template line 3: unsupported filter 'wordwrap'");
  EXPECT_EQ(ParseError("{% macro m(x) %}{{ x }}{% endmacro %}"),
            "chat_template line 1: unsupported tag 'macro'");
  EXPECT_EQ(ParseError("\n{% include 'other.jinja' %}"), "chat_template line 2: unsupported tag 'include'");
  EXPECT_EQ(ParseError("{{ 'x {}'.format(1) }}"), "chat_template line 1: unsupported method 'format'");
  EXPECT_EQ(ParseError("{% if x is divisibleby3 %}{% endif %}"),
            "chat_template line 1: unsupported test 'divisibleby3'");
  EXPECT_EQ(ParseError("{{ cycler(1, 2) }}"), "chat_template line 1: unsupported function 'cycler'");
  EXPECT_EQ(ParseError("{% raw %}{{ x }}{% endraw %}"), "chat_template line 1: unsupported tag 'raw'");
  EXPECT_EQ(ParseError("{% set x %}body{% endset %}"),
            "chat_template line 1: unsupported tag 'set' with a block body (use set x = ...)");
  EXPECT_EQ(ParseError("{% for x in y %}"), "chat_template line 1: missing {% endfor %}");
  EXPECT_EQ(ParseError("{{ x "), "chat_template line 1: tag is not closed with }}");
  EXPECT_EQ(ParseError("{% break %}"), "chat_template line 1: 'break' outside a for loop");
}

std::filesystem::path TempFolder() {
  std::string pattern = (std::filesystem::temp_directory_path() / "ft_chat_XXXXXX").string();
  const char* made = mkdtemp(pattern.data());
  EXPECT_NE(made, nullptr);
  return made;
}

void Write(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

TEST(LoadChatTemplateTest, ReadsTokenizerConfigAndSpecialTokens) {
  const std::filesystem::path folder = TempFolder();
  EXPECT_EQ(LoadChatTemplate(folder.string()).status().code(), absl::StatusCode::kNotFound);
  Write(folder / "tokenizer_config.json",
        R"({"bos_token": {"__type": "AddedToken", "content": "<s>"}, "eos_token": "</s>",
            "chat_template": [{"name": "tool_use", "template": "tools"},
                              {"name": "default", "template": "{{ bos_token }}{{ messages[0].content }}{{ eos_token }}"}]})");
  absl::StatusOr<ChatTemplate> t = LoadChatTemplate(folder.string());
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(*t->Render({{"user", "hi"}}, false), "<s>hi</s>");
  // chat_template.jinja beside it wins, as in transformers.
  Write(folder / "chat_template.jinja", "[{{ messages[0].content }}]{{ eos_token }}\n");
  t = LoadChatTemplate(folder.string());
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(*t->Render({{"user", "hi"}}, false), "[hi]</s>");
  Write(folder / "chat_template.jinja", "\n{{ x | wordwrap }}");
  EXPECT_EQ(LoadChatTemplate(folder.string()).status().message(),
            (folder / "chat_template.jinja").string() +
                ": chat_template line 2: unsupported filter 'wordwrap'");
  std::filesystem::remove_all(folder);
}

TEST(AssistantSpansTest, SpanEachAssistantTurnThroughItsEndOfTurn) {
  absl::StatusOr<ChatTemplate> chatml = ChatTemplate::Create(
      "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
      "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}"
      "{{ '<|im_start|>assistant\\n' }}{% endif %}",
      {});
  ASSERT_TRUE(chatml.ok());
  const std::vector<ChatMessage> conversation = {
      {"system", "S"}, {"user", "Q1"}, {"assistant", "A1"}, {"user", "Q2"}, {"assistant", "A2"}};
  absl::StatusOr<RenderedConversation> rendered = chatml->RenderWithAssistantSpans(conversation);
  ASSERT_TRUE(rendered.ok()) << rendered.status();
  ASSERT_EQ(rendered->assistant_spans.size(), 2u);
  auto span = [&](int i) {
    const auto [begin, end] = rendered->assistant_spans[i];
    return rendered->text.substr(begin, end - begin);
  };
  EXPECT_EQ(span(0), "A1<|im_end|>\n");
  EXPECT_EQ(span(1), "A2<|im_end|>\n");
}

TEST(AssistantSpansTest, RefusesATemplateThatDoesNotRenderTurnsIncrementally) {
  // Mistral's later templates put the system prompt into the last user turn.
  absl::StatusOr<ChatTemplate> t = ChatTemplate::Create(
      "{% for m in messages %}{% if m.role == 'user' and loop.last %}[{{ messages[0].content }}]"
      "{% endif %}{{ m.content }};{% endfor %}",
      {});
  ASSERT_TRUE(t.ok());
  absl::StatusOr<RenderedConversation> rendered =
      t->RenderWithAssistantSpans({{"system", "S"}, {"user", "Q"}, {"assistant", "A"}, {"user", "Q2"}});
  EXPECT_EQ(rendered.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(rendered.status().message().find("does not render turns incrementally"),
            std::string::npos);
}

}  // namespace
}  // namespace ft::chat
