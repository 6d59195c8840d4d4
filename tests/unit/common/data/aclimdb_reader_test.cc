// The aclImdb folder layout: label subfolders of .txt files.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/data/dataset.h"
#include "tests/unit/common/data/test_util.h"

namespace ft::data {
namespace {

using testing::Source;
using testing::TempDir;

TEST(AclImdbReaderTest, LabelsAreSubfoldersWithTxtFilesInSortedOrder) {
  TempDir dir;
  const std::string root = dir.MakeFolder("train");
  dir.Write("train/pos/1_10.txt", "Great <br />film, \"really\".");
  dir.Write("train/pos/0_9.txt", "\xEF\xBB\xBFGood.\n");
  dir.Write("train/pos/notes.md", "not a review");
  dir.Write("train/neg/2_1.txt", "Bad.");
  dir.Write("train/unsup/0_0.txt", "unlabeled");
  dir.Write("train/.hidden/0_0.txt", "hidden");
  dir.Write("train/other/readme.md", "no txt here");
  dir.Write("train/urls_pos.txt", "http://example.com");
  dir.MakeFolder("train/empty");

  const DatasetHeader header = ReadHeader(Source(root));
  EXPECT_EQ(header.format, Format::kAclImdb);
  EXPECT_EQ(header.columns, (std::vector<std::string>{"text", "label"}));

  const std::vector<RawExample> examples = ReadExamples(Source(root));
  ASSERT_EQ(examples.size(), 3u);
  EXPECT_EQ(examples[0].label, "neg");
  EXPECT_EQ(examples[0].text, "Bad.");
  EXPECT_EQ(examples[0].line, 1u);
  // Byte-wise order: "0_9.txt" < "1_10.txt".
  EXPECT_EQ(examples[1].label, "pos");
  EXPECT_EQ(examples[1].text, "Good.\n");
  EXPECT_EQ(examples[1].line, 2u);
  EXPECT_EQ(examples[2].label, "pos");
  EXPECT_EQ(examples[2].text, "Great <br />film, \"really\".");
  EXPECT_EQ(examples[2].line, 3u);
}

TEST(AclImdbReaderTest, FolderWithoutLabelsIsAnError) {
  TempDir dir;
  const std::string root = dir.MakeFolder("data");
  dir.Write("data/unsup/1_0.txt", "unlabeled");
  dir.Write("data/top.txt", "not in a label folder");
  EXPECT_DATA_ERROR(ReadExamples(Source(root)), root, 0, 0, "no label subfolders");
  EXPECT_DATA_ERROR(ReadHeader(Source(root)), root, 0, 0, "no label subfolders");
}

TEST(AclImdbReaderTest, BadFileIsNamed) {
  TempDir dir;
  const std::string root = dir.MakeFolder("data");
  dir.Write("data/pos/0_9.txt", "fine");
  const std::string bad = dir.Write("data/pos/1_8.txt", "line one\nline \xFF two");
  EXPECT_DATA_ERROR(ReadExamples(Source(root)), bad, 2, 0, "not valid UTF-8");
}

TEST(AclImdbReaderTest, ExplicitFormatNeedsAFolder) {
  TempDir dir;
  const std::string file = dir.Write("a.csv", "text,label\na,1\n");
  DatasetSource source = Source(file);
  source.format = Format::kAclImdb;
  EXPECT_EQ(ResolveFormat(source), Format::kAclImdb);
  EXPECT_DATA_ERROR(ReadExamples(source), file, 0, 0, "needs a folder");
}

}  // namespace
}  // namespace ft::data
