// Renders >= 1,000 seeded conversations per real chat template (tests/fixtures/chat_templates)
// with common/chat and with Jinja2 configured as transformers configures it
// (tests/chat/chat_reference.py, which also generates the conversations), with and without the
// generation prompt, and requires byte-identical text; where Jinja2 raises, ours must fail too,
// and for raise_exception() with the same message.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "common/chat/chat_template.h"
#include "gtest/gtest.h"
#include "tests/support/prerequisite.h"

namespace ft::chat {
namespace {

constexpr int kConversationsPerTemplate = 1000;
constexpr int kSeed = 20240611;
const char kPython[] = "/usr/bin/python3";

std::string SourceDir() {
  const char* dir = std::getenv("FT_SOURCE_DIR");
  return dir != nullptr ? dir : ".";
}

bool HasJinja2() {
  if (access(kPython, X_OK) != 0) return false;
  const std::string command = std::string(kPython) + " -c 'import jinja2' 2>/dev/null";
  return std::system(command.c_str()) == 0;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Escaped(const std::string& text) {
  return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

TEST(ChatTemplateDifferentialTest, MatchesJinja2OnEveryFixtureTemplate) {
  if (!HasJinja2()) FT_SKIP_PREREQUISITE_MISSING() << "/usr/bin/python3 with jinja2";
  const std::string templates = SourceDir() + "/tests/fixtures/chat_templates";
  const std::string command = std::string(kPython) + " " + SourceDir() +
                              "/tests/chat/chat_reference.py " + templates + " " +
                              std::to_string(kConversationsPerTemplate) + " " +
                              std::to_string(kSeed);
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[1 << 16];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) output.append(buffer, n);
  ASSERT_EQ(pclose(pipe), 0) << command;

  std::istringstream lines(output);
  std::string line;
  ASSERT_TRUE(std::getline(lines, line));
  SpecialTokens special_tokens;
  const nlohmann::json header = nlohmann::json::parse(line);
  for (const auto& [name, token] : header.at("special_tokens").items()) {
    special_tokens.named.emplace_back(name, token.get<std::string>());
  }

  std::map<std::string, ChatTemplate> parsed;
  std::map<std::string, int> rendered, raised, mismatched;
  int reported = 0;
  while (std::getline(lines, line)) {
    const nlohmann::json record = nlohmann::json::parse(line);
    const std::string name = record.at("template");
    auto found = parsed.find(name);
    if (found == parsed.end()) {
      absl::StatusOr<ChatTemplate> tmpl =
          ChatTemplate::Create(ReadFile(templates + "/" + name + ".jinja"), special_tokens);
      ASSERT_TRUE(tmpl.ok()) << name << ": " << tmpl.status();
      found = parsed.emplace(name, *std::move(tmpl)).first;
    }
    std::vector<ChatMessage> messages;
    for (const auto& m : record.at("messages")) {
      messages.push_back({m.at("role").get<std::string>(), m.at("content").get<std::string>()});
    }
    const bool add_generation_prompt = record.at("add_generation_prompt");
    const absl::StatusOr<std::string> ours = found->second.Render(messages, add_generation_prompt);
    std::string problem;
    if (record.at("ok").get<bool>()) {
      ++rendered[name];
      const std::string expected = record.at("text");
      if (!ours.ok()) {
        problem = "Jinja2 rendered " + Escaped(expected) + ", ours failed: " +
                  std::string(ours.status().message());
      } else if (*ours != expected) {
        problem = "Jinja2 " + Escaped(expected) + "\n      ours " + Escaped(*ours);
      }
    } else {
      ++raised[name];
      const std::string error = record.at("error");
      const std::string prefix = "TemplateError: ";
      if (ours.ok()) {
        problem = "Jinja2 failed (" + error + "), ours rendered " + Escaped(*ours);
      } else if (error.rfind(prefix, 0) == 0 &&
                 std::string(ours.status().message()) !=
                     "chat_template raised: " + error.substr(prefix.size())) {
        problem = "Jinja2 raised (" + error + "), ours failed otherwise: " +
                  std::string(ours.status().message());
      }
    }
    if (!problem.empty()) {
      ++mismatched[name];
      if (++reported <= 10) {
        ADD_FAILURE() << name << " add_generation_prompt=" << add_generation_prompt
                      << " messages=" << record.at("messages").dump() << "\n      " << problem;
      }
    }
  }
  ASSERT_GE(parsed.size(), 6u);
  for (const auto& [name, tmpl] : parsed) {
    EXPECT_EQ(rendered[name] + raised[name], 2 * kConversationsPerTemplate) << name;
    EXPECT_GT(rendered[name], 0) << name;
    EXPECT_EQ(mismatched[name], 0) << name;
    std::printf("%-22s %5d renderings compared (%5d by Jinja2, %4d raised), %d differ\n",
                name.c_str(), rendered[name] + raised[name], rendered[name], raised[name],
                mismatched[name]);
  }
}

}  // namespace
}  // namespace ft::chat
