// Error messages of the readers quote at most a short, printable excerpt of a file: never a whole
// header line, a long label or a JSON line.
#include <gtest/gtest.h>

#include "common/data/dataset.h"
#include "common/data/excerpt.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/common/data/test_util.h"

namespace ft::data {
namespace {

using ft::testing::TempDir;
using testing::Source;

std::string ErrorOf(const std::function<void()>& call) {
  try {
    call();
  } catch (const DataError& error) {
    return error.what();
  }
  ADD_FAILURE() << "no DataError";
  return "";
}

TEST(ExcerptTest, CutsAndMasks) {
  EXPECT_EQ(Excerpt("short"), "short");
  EXPECT_EQ(Excerpt(std::string(40, 'a'), 8), "aaaaaaaa...");
  EXPECT_EQ(Excerpt("tab\there\x01\xff"), "tab?here??");
  EXPECT_EQ(ExcerptList({"a", "b"}), "\"a\", \"b\"");
  EXPECT_EQ(ExcerptList({"a", "b", "c"}, 2, false), "a, b, ... (3 in all)");
  EXPECT_EQ(ExcerptList({}), "(none)");
}

TEST(ExcerptTest, ReaderErrorsQuoteNoLongContent) {
  TempDir dir;
  const std::string secret(200, 's');
  std::string header = "review";
  for (int i = 0; i < 30; ++i) header += "," + secret + std::to_string(i);
  const std::string csv = dir.Write("wide.csv", header + "\nx,1\n");
  std::string message = ErrorOf([&] { ReadExamples(Source(csv)); });
  EXPECT_NE(message.find("no text column"), std::string::npos) << message;
  EXPECT_EQ(message.find(secret.substr(0, 64)), std::string::npos) << message;
  EXPECT_NE(message.find("(31 in all)"), std::string::npos) << message;
  EXPECT_LT(message.size(), 600u) << message;

  const std::string jsonl = dir.Write("bad.jsonl", "{\"text\": \"" + secret + "\" oops}\n");
  message = ErrorOf([&] { ReadExamples(Source(jsonl)); });
  EXPECT_NE(message.find("invalid JSON"), std::string::npos) << message;
  EXPECT_EQ(message.find(secret.substr(0, 64)), std::string::npos) << message;
}

}  // namespace
}  // namespace ft::data
