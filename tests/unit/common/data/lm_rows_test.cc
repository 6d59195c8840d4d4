// The rows of a causal-LM job (common/data/lm_rows.h): the three shapes, and every kind of bad row
// refused with the file, the line and the field.
#include "common/data/lm_rows.h"

#include <gtest/gtest.h>

#include "tests/unit/common/data/test_util.h"

namespace ft::data {
namespace {

using testing::TempDir;

TEST(LmRowsTest, ReadsTheThreeShapes) {
  TempDir dir;
  const std::string path = dir.Write(
      "rows.jsonl",
      "{\"prompt\": \"Q: 2+2?\\nA:\", \"completion\": \" 4\", \"id\": 7}\n"
      "\n"
      "{\"text\": \"plain \\u00e9t\\u00e9 text\"}\n"
      "{\"messages\": [{\"role\": \"system\", \"content\": \"\"}, {\"role\": \"user\", "
      "\"content\": \"hi\"}, {\"role\": \"assistant\", \"content\": \"hello\"}]}\n");
  const std::vector<LmRow> rows = ReadLmRows(path);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].kind, LmRow::Kind::kPromptCompletion);
  EXPECT_EQ(rows[0].prompt, "Q: 2+2?\nA:");
  EXPECT_EQ(rows[0].completion, " 4");
  EXPECT_EQ(rows[0].line, 1u);
  EXPECT_EQ(rows[1].kind, LmRow::Kind::kText);
  EXPECT_EQ(rows[1].text, "plain \xc3\xa9t\xc3\xa9 text");
  EXPECT_EQ(rows[1].line, 3u);
  EXPECT_EQ(rows[2].kind, LmRow::Kind::kMessages);
  ASSERT_EQ(rows[2].messages.size(), 3u);
  EXPECT_EQ(rows[2].messages[0].content, "");  // empty content is allowed
  EXPECT_EQ(rows[2].messages[2].role, "assistant");
}

TEST(LmRowsTest, RefusesBadRowsNamingLineAndField) {
  TempDir dir;
  const auto second_line_is = [&dir](const std::string& row) {
    return dir.Write("bad.jsonl", "{\"text\": \"fine\"}\n" + row + "\n");
  };
  std::string path = second_line_is(
      "{\"messages\": [{\"role\": \"user\", \"content\": \"only a question\"}]}");
  EXPECT_DATA_ERROR(ReadLmRows(path), path, 2, 0, "no assistant turn");
  path = second_line_is(
      "{\"messages\": [{\"role\": \"tool\", \"content\": \"x\"}, {\"role\": \"assistant\", "
      "\"content\": \"y\"}]}");
  EXPECT_DATA_ERROR(ReadLmRows(path), path, 2, 0, "messages[0].role: unknown role \"tool\"");
  path = second_line_is(
      "{\"messages\": [{\"role\": \"user\", \"content\": [\"a\"]}, {\"role\": \"assistant\", "
      "\"content\": \"y\"}]}");
  EXPECT_DATA_ERROR(ReadLmRows(path), path, 2, 0, "messages[0].\"content\" must be a string");
  path = second_line_is("{\"messages\": [{\"role\": \"assistant\"}]}");
  EXPECT_DATA_ERROR(ReadLmRows(path), path, 2, 0, "messages[0].content is missing");
  path = second_line_is("{\"messages\": []}");
  EXPECT_DATA_ERROR(ReadLmRows(path), path, 2, 0, "non-empty array");
  path = second_line_is("{\"prompt\": \"p\"}");
  EXPECT_DATA_ERROR(ReadLmRows(path), path, 2, 0, "\"completion\" is missing");
  path = second_line_is("{\"prompt\": \"p\", \"completion\": 3}");
  EXPECT_DATA_ERROR(ReadLmRows(path), path, 2, 0, "\"completion\" must be a string");
  path = second_line_is("{\"text\": \"t\", \"prompt\": \"p\", \"completion\": \"c\"}");
  EXPECT_DATA_ERROR(ReadLmRows(path), path, 2, 0, "give exactly one");
  path = second_line_is("{\"question\": \"q\"}");
  EXPECT_DATA_ERROR(ReadLmRows(path), path, 2, 0, "none of them");
  path = second_line_is("[1, 2]");
  EXPECT_DATA_ERROR(ReadLmRows(path), path, 2, 0, "expected a JSON object");
  path = dir.Write("empty.jsonl", "\n\n");
  EXPECT_DATA_ERROR(ReadLmRows(path), path, 0, 0, "no examples");
}

}  // namespace
}  // namespace ft::data
