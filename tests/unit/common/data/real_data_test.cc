// The readers on the real data sets in ../shared/data (FT_SHARED_DATA). Counts were checked
// against Python's csv module. Skipped when the folder is absent.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "common/data/dataset.h"
#include "tests/support/prerequisite.h"
#include "tests/unit/common/data/test_util.h"

namespace ft::data {
namespace {

using testing::Source;

// Full path of `relative` under the shared data folder, or "" when the folder is absent.
std::string SharedFile(const std::string& relative) {
  const char* root = std::getenv("FT_SHARED_DATA");
  if (root == nullptr || !std::filesystem::is_directory(root)) return "";
  return (std::filesystem::path(root) / relative).string();
}

#define SHARED_FILE_OR_SKIP(var, relative)      \
  const std::string var = SharedFile(relative); \
  if (var.empty())                              \
    FT_SKIP_PREREQUISITE_MISSING() << "FT_SHARED_DATA is unset or absent; real-data test skipped"

std::map<std::string, int> LabelCounts(const std::vector<RawExample>& examples) {
  std::map<std::string, int> counts;
  for (const RawExample& example : examples) ++counts[example.label];
  return counts;
}

TEST(RealDataTest, ImdbSmall) {
  SHARED_FILE_OR_SKIP(path, "imdb/imdb_small_2000.csv");
  const std::vector<RawExample> examples = ReadExamples(Source(path));
  ASSERT_EQ(examples.size(), 2000u);
  EXPECT_EQ(LabelCounts(examples), (std::map<std::string, int>{{"0", 1000}, {"1", 1000}}));
  EXPECT_EQ(examples[0].line, 2u);
  EXPECT_EQ(examples[0].text.rfind("This was one of the all time best episodes.", 0), 0u);
  const LabelMap labels = LabelMap::Build(examples);
  EXPECT_EQ(labels.names(), (std::vector<std::string>{"0", "1"}));
  const auto [train, validation] = SplitSeeded(examples, 0.1, 1);
  EXPECT_EQ(train.size(), 1800u);
  EXPECT_EQ(validation.size(), 200u);
}

TEST(RealDataTest, Sst2DevTsv) {
  SHARED_FILE_OR_SKIP(path, "sst2/dev.tsv");
  const DatasetHeader header = ReadHeader(Source(path));
  EXPECT_EQ(header.format, Format::kTsv);
  EXPECT_EQ(header.columns, (std::vector<std::string>{"sentence", "label"}));
  const std::vector<RawExample> examples = ReadExamples(Source(path, "sentence"));
  ASSERT_EQ(examples.size(), 872u);
  EXPECT_EQ(LabelCounts(examples), (std::map<std::string, int>{{"0", 428}, {"1", 444}}));
  // SST-2 sentences keep their trailing space before the tab.
  EXPECT_EQ(examples[0].text, "it 's a charming and often affecting journey . ");
  EXPECT_EQ(examples.back().line, 873u);
}

TEST(RealDataTest, SmsSpam) {
  SHARED_FILE_OR_SKIP(path, "sms_spam/sms_spam.csv");
  const std::vector<RawExample> examples = ReadExamples(Source(path));
  ASSERT_EQ(examples.size(), 5574u);
  EXPECT_EQ(LabelCounts(examples), (std::map<std::string, int>{{"0", 4827}, {"1", 747}}));
}

// The original SMSSpamCollection read as TSV: a message that starts with a quote but goes on
// after the closing quote is not valid quoting, and the error says where.
TEST(RealDataTest, SmsSpamCollectionAsTsvStopsAtBadQuoting) {
  SHARED_FILE_OR_SKIP(path, "sms_spam/SMSSpamCollection");
  DatasetSource source = Source(path, "message", "output");
  source.format = Format::kTsv;
  EXPECT_EQ(ReadHeader(source).columns, (std::vector<std::string>{"output", "message"}));
  EXPECT_DATA_ERROR(ReadExamples(source), path, 284, 2, "after the closing quote");
}

TEST(RealDataTest, RtPolarity) {
  SHARED_FILE_OR_SKIP(path, "rt-polarity/rt-polarity.csv");
  const std::vector<RawExample> examples = ReadExamples(Source(path));
  ASSERT_EQ(examples.size(), 10662u);
  EXPECT_EQ(LabelCounts(examples), (std::map<std::string, int>{{"0", 5331}, {"1", 5331}}));
  // Doubled quotes inside a quoted field.
  EXPECT_NE(examples[0].text.find("new \" conan \" and"), std::string::npos) << examples[0].text;
}

TEST(RealDataTest, AgNewsSubset) {
  SHARED_FILE_OR_SKIP(path, "ag_news/train_subset.csv");
  const std::vector<RawExample> examples = ReadExamples(Source(path));
  ASSERT_EQ(examples.size(), 10001u);
  EXPECT_EQ(LabelCounts(examples),
            (std::map<std::string, int>{{"0", 2509}, {"1", 2458}, {"2", 2496}, {"3", 2538}}));
  EXPECT_EQ(LabelMap::Build(examples).num_labels(), 4u);
}

// AG News' original test.csv has no header row: its first record is taken as the header and
// the message shows the start of each column (32 bytes at most: no file contents in errors).
TEST(RealDataTest, AgNewsOriginalTestHasNoHeader) {
  SHARED_FILE_OR_SKIP(path, "ag_news/test.csv");
  EXPECT_DATA_ERROR(ReadExamples(Source(path)), path, 1, 0,
                    "no text column \"text\" in the header; its columns are \"3\", \"Fears for T N "
                    "pension after talk...\", \"Unions representing workers at T...\"");
}

TEST(RealDataTest, TrecSixClasses) {
  SHARED_FILE_OR_SKIP(path, "trec/train.csv");
  const std::vector<RawExample> examples = ReadExamples(Source(path));
  ASSERT_EQ(examples.size(), 5452u);
  EXPECT_EQ(LabelMap::Build(examples).num_labels(), 6u);
}

TEST(RealDataTest, ImdbTrainIsFast) {
  SHARED_FILE_OR_SKIP(path, "imdb/train.csv");
  const auto start = std::chrono::steady_clock::now();
  const std::vector<RawExample> examples = ReadExamples(Source(path));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(examples.size(), 35000u);
  EXPECT_EQ(LabelCounts(examples), (std::map<std::string, int>{{"0", 17452}, {"1", 17548}}));
  std::printf("read %zu imdb/train.csv examples in %.3f s\n", examples.size(), seconds);
#if defined(NDEBUG) && !defined(__SANITIZE_ADDRESS__)
  EXPECT_LT(seconds, 2.0);  // about 0.1 s on a laptop core; generous for a loaded CI machine
#endif
}

}  // namespace
}  // namespace ft::data
