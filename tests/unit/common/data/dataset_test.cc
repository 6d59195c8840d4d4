// Format names, DataError's message, format inference and path errors.
#include "common/data/dataset.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/unit/common/data/test_util.h"

namespace ft::data {
namespace {

using testing::Source;
using testing::TempDir;

TEST(FormatTest, NamesRoundTrip) {
  for (Format format : {Format::kCsv, Format::kTsv, Format::kJsonl, Format::kAclImdb}) {
    EXPECT_EQ(ParseFormat(FormatName(format)), format);
  }
  EXPECT_EQ(FormatName(Format::kAclImdb), "aclimdb");
  EXPECT_EQ(ParseFormat("jsonl"), Format::kJsonl);
  EXPECT_FALSE(ParseFormat("CSV").has_value());
  EXPECT_FALSE(ParseFormat("parquet").has_value());
  EXPECT_FALSE(ParseFormat("").has_value());
}

TEST(DataErrorTest, MessageNamesFileLineAndColumn) {
  const DataError full("data/train.csv", 17, 3, "unterminated quoted field");
  EXPECT_STREQ(full.what(), "data/train.csv:17:3: unterminated quoted field");
  EXPECT_EQ(full.file(), "data/train.csv");
  EXPECT_EQ(full.line(), 17u);
  EXPECT_EQ(full.column(), 3u);
  EXPECT_STREQ(DataError("a.csv", 4, 0, "bad").what(), "a.csv:4: bad");
  EXPECT_STREQ(DataError("a.csv", 0, 0, "empty").what(), "a.csv: empty");
  EXPECT_STREQ(DataError("", 0, 0, "no examples").what(), "no examples");
}

TEST(ResolveFormatTest, InfersFromExtensionOrFolder) {
  TempDir dir;
  EXPECT_EQ(ResolveFormat(Source(dir.Write("a.tsv", "x"))), Format::kTsv);
  EXPECT_EQ(ResolveFormat(Source(dir.Write("b.TSV", "x"))), Format::kTsv);
  EXPECT_EQ(ResolveFormat(Source(dir.Write("c.jsonl", "x"))), Format::kJsonl);
  EXPECT_EQ(ResolveFormat(Source(dir.Write("d.json", "x"))), Format::kJsonl);
  EXPECT_EQ(ResolveFormat(Source(dir.Write("e.ndjson", "x"))), Format::kJsonl);
  EXPECT_EQ(ResolveFormat(Source(dir.Write("f.csv", "x"))), Format::kCsv);
  EXPECT_EQ(ResolveFormat(Source(dir.Write("g.txt", "x"))), Format::kCsv);
  EXPECT_EQ(ResolveFormat(Source(dir.Write("noext", "x"))), Format::kCsv);
  EXPECT_EQ(ResolveFormat(Source(dir.MakeFolder("imdb.csv"))), Format::kAclImdb);
}

TEST(ResolveFormatTest, ExplicitFormatWins) {
  TempDir dir;
  DatasetSource source = Source(dir.Write("data.txt", "sentence\tlabel\nhi\t1\n"), "sentence");
  source.format = Format::kTsv;
  EXPECT_EQ(ResolveFormat(source), Format::kTsv);
  EXPECT_EQ(ReadExamples(source).at(0).text, "hi");
}

TEST(ResolveFormatTest, MissingPathAndFolderAsFile) {
  TempDir dir;
  const std::string missing = (dir.path() / "missing" / "x.csv").string();
  EXPECT_DATA_ERROR(ResolveFormat(Source(missing)), missing, 0, 0, "no such file or directory");
  EXPECT_DATA_ERROR(ResolveFormat(Source("")), "", 0, 0, "no data path");

  DatasetSource folder = Source(dir.MakeFolder("folder"));
  folder.format = Format::kCsv;
  EXPECT_DATA_ERROR(ReadExamples(folder), folder.path, 0, 0, "is a directory");
}

}  // namespace
}  // namespace ft::data
