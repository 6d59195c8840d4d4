// JSON Lines reading: keys as columns, string or integer labels, and the error paths.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/data/dataset.h"
#include "tests/unit/common/data/test_util.h"

namespace ft::data {
namespace {

using testing::Source;
using testing::TempDir;

TEST(JsonlReaderTest, ReadsStringAndIntegerLabels) {
  TempDir dir;
  const std::string path = dir.Write("a.jsonl",
                                     "{\"text\": \"first, \\\"quoted\\\"\\n\", \"label\": 1}\n"
                                     "\n   \n"
                                     "{\"label\": \" pos \", \"text\": \"caf\\u00e9\"}\r\n"
                                     "{\"text\": \"\", \"label\": 12345678901, \"extra\": [1, 2]}");
  const std::vector<RawExample> examples = ReadExamples(Source(path));
  ASSERT_EQ(examples.size(), 3u);
  EXPECT_EQ(examples[0].text, "first, \"quoted\"\n");
  EXPECT_EQ(examples[0].label, "1");
  EXPECT_EQ(examples[0].line, 1u);
  EXPECT_EQ(examples[1].text, "caf\xC3\xA9");
  EXPECT_EQ(examples[1].label, "pos");
  EXPECT_EQ(examples[1].line, 4u);
  EXPECT_EQ(examples[2].text, "");
  EXPECT_EQ(examples[2].label, "12345678901");
  EXPECT_EQ(examples[2].line, 5u);
}

TEST(JsonlReaderTest, CustomKeysAndNegativeInteger) {
  TempDir dir;
  const std::string path = dir.Write("a.ndjson", "{\"review\": \"r\", \"stars\": -2}\n");
  const std::vector<RawExample> examples = ReadExamples(Source(path, "review", "stars"));
  ASSERT_EQ(examples.size(), 1u);
  EXPECT_EQ(examples[0].text, "r");
  EXPECT_EQ(examples[0].label, "-2");
}

TEST(JsonlReaderTest, HeaderIsTheFirstRecordsKeysInFileOrder) {
  TempDir dir;
  const std::string path =
      dir.Write("a.json", "\n{\"zeta\": 1, \"text\": \"a\", \"label\": 0}\n{\"other\": 2}\n");
  const DatasetHeader header = ReadHeader(Source(path));
  EXPECT_EQ(header.format, Format::kJsonl);
  EXPECT_EQ(header.columns, (std::vector<std::string>{"zeta", "text", "label"}));
}

TEST(JsonlErrorTest, InvalidJson) {
  TempDir dir;
  const std::string path =
      dir.Write("a.jsonl", "{\"text\": \"a\", \"label\": 0}\n\n{\"text\": \"b\", \"label\": 1\n");
  EXPECT_DATA_ERROR(ReadExamples(Source(path)), path, 3, 0,
                    "invalid JSON: [json.exception.parse_error");
  const std::string first = dir.Write("b.jsonl", "not json\n");
  EXPECT_DATA_ERROR(ReadHeader(Source(first)), first, 1, 0, "invalid JSON");
}

// Found by scripts/fuzz.sh (tokenizer, then data_reader): a number past double's range makes
// nlohmann throw out_of_range, not parse_error; it escaped the reader as a bare JSON exception
// (no file, no line) instead of a DataError.
TEST(JsonlErrorTest, NumberOverflowIsInvalidJsonNamingTheLine) {
  TempDir dir;
  const std::string path =
      dir.Write("a.jsonl", "{\"text\": \"a\", \"label\": 0}\n{\"text\": \"b\", \"label\": 1e999}\n");
  EXPECT_DATA_ERROR(ReadExamples(Source(path)), path, 2, 0, "invalid JSON: ");
  EXPECT_DATA_ERROR(ReadExamples(Source(path)), path, 2, 0, "number overflow");
  const std::string first = dir.Write("b.jsonl", "{\"text\": \"a\", \"x\": -1e400}\n");
  EXPECT_DATA_ERROR(ReadHeader(Source(first)), first, 1, 0, "invalid JSON");
}

TEST(JsonlErrorTest, NotAnObject) {
  TempDir dir;
  const std::string path = dir.Write("a.jsonl", "{\"text\": \"a\", \"label\": 0}\n[1, 2]\n");
  EXPECT_DATA_ERROR(ReadExamples(Source(path)), path, 2, 0, "expected a JSON object, got array");
}

TEST(JsonlErrorTest, MissingKeyNamesKeyAndListsKeys) {
  TempDir dir;
  const std::string path =
      dir.Write("a.jsonl", "{\"text\": \"a\", \"label\": 0}\n{\"txt\": \"b\", \"label\": 1}\n");
  EXPECT_DATA_ERROR(ReadExamples(Source(path)), path, 2, 0,
                    "missing text key \"text\"; the object has keys \"txt\", \"label\"");
  const std::string no_label = dir.Write("b.jsonl", "{\"text\": \"a\"}\n");
  EXPECT_DATA_ERROR(ReadExamples(Source(no_label)), no_label, 1, 0, "missing label key \"label\"");
}

TEST(JsonlErrorTest, WrongTypes) {
  TempDir dir;
  const std::string text = dir.Write("a.jsonl", "{\"text\": 5, \"label\": 0}\n");
  EXPECT_DATA_ERROR(ReadExamples(Source(text)), text, 1, 0, "text \"text\" must be a string");
  const std::string real = dir.Write("b.jsonl", "{\"text\": \"a\", \"label\": 0.5}\n");
  EXPECT_DATA_ERROR(ReadExamples(Source(real)), real, 1, 0, "must be a string or an integer");
  const std::string boolean = dir.Write("c.jsonl", "{\"text\": \"a\", \"label\": true}\n");
  EXPECT_DATA_ERROR(ReadExamples(Source(boolean)), boolean, 1, 0, "got boolean");
  const std::string empty = dir.Write("d.jsonl", "{\"text\": \"a\", \"label\": \" \"}\n");
  EXPECT_DATA_ERROR(ReadExamples(Source(empty)), empty, 1, 0, "empty label");
}

TEST(JsonlErrorTest, EmptyFileAndBinary) {
  TempDir dir;
  const std::string empty = dir.Write("a.jsonl", "\n \n");
  EXPECT_DATA_ERROR(ReadExamples(Source(empty)), empty, 0, 0, "no examples");
  EXPECT_DATA_ERROR(ReadHeader(Source(empty)), empty, 0, 0, "empty file");
  const std::string binary =
      dir.Write("b.jsonl", std::string("{\"text\": \"a\", \"label\": 0}\n\x01\0", 29));
  EXPECT_DATA_ERROR(ReadExamples(Source(binary)), binary, 2, 0, "NUL byte");
  const std::string latin1 = dir.Write("c.jsonl", "{\"text\": \"caf\xE9\", \"label\": 0}\n");
  EXPECT_DATA_ERROR(ReadExamples(Source(latin1)), latin1, 1, 0, "not valid UTF-8");
}

}  // namespace
}  // namespace ft::data
