// CSV and TSV reading: RFC 4180 quoting, line ends, BOM, line numbers and every error path.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/data/dataset.h"
#include "tests/unit/common/data/test_util.h"

namespace ft::data {
namespace {

using testing::Source;
using testing::TempDir;

std::vector<std::string> Texts(const std::vector<RawExample>& examples) {
  std::vector<std::string> texts;
  for (const RawExample& example : examples) texts.push_back(example.text);
  return texts;
}
std::vector<std::string> Labels(const std::vector<RawExample>& examples) {
  std::vector<std::string> labels;
  for (const RawExample& example : examples) labels.push_back(example.label);
  return labels;
}
std::vector<std::size_t> Lines(const std::vector<RawExample>& examples) {
  std::vector<std::size_t> lines;
  for (const RawExample& example : examples) lines.push_back(example.line);
  return lines;
}

TEST(CsvReaderTest, ReadsQuotedAndUnquotedFields) {
  TempDir dir;
  const std::string path = dir.Write(
      "a.csv", "text,label\nhello,1\n\"a, b\",0\n\"say \"\"hi\"\"\",1\n\"\",0\nit\"s,1\n");
  const std::vector<RawExample> examples = ReadExamples(Source(path));
  EXPECT_EQ(Texts(examples),
            (std::vector<std::string>{"hello", "a, b", "say \"hi\"", "", "it\"s"}));
  EXPECT_EQ(Labels(examples), (std::vector<std::string>{"1", "0", "1", "0", "1"}));
  EXPECT_EQ(Lines(examples), (std::vector<std::size_t>{2, 3, 4, 5, 6}));
}

TEST(CsvReaderTest, NewlinesInsideQuotesKeepLaterLineNumbersRight) {
  TempDir dir;
  const std::string path =
      dir.Write("multi.csv", "text,label\n\"one\ntwo\n\nthree\",0\nnext,1\n\"a\tb\nc\",1\nlast,0");
  const std::vector<RawExample> examples = ReadExamples(Source(path));
  EXPECT_EQ(Texts(examples),
            (std::vector<std::string>{"one\ntwo\n\nthree", "next", "a\tb\nc", "last"}));
  EXPECT_EQ(Lines(examples), (std::vector<std::size_t>{2, 6, 7, 9}));
}

TEST(CsvReaderTest, CrLfLineEnds) {
  TempDir dir;
  const std::string path =
      dir.Write("crlf.csv", "text,label\r\nhello,1\r\n\"multi\r\nline\",0\r\n\r\nlast,1\r\n");
  const std::vector<RawExample> examples = ReadExamples(Source(path));
  // Line breaks inside quotes are kept as written; record ends lose their '\r'.
  EXPECT_EQ(Texts(examples), (std::vector<std::string>{"hello", "multi\r\nline", "last"}));
  EXPECT_EQ(Labels(examples), (std::vector<std::string>{"1", "0", "1"}));
  EXPECT_EQ(Lines(examples), (std::vector<std::size_t>{2, 3, 6}));

  // Text in the last column, unquoted and quoted, with and without a final line end.
  const std::string last =
      dir.Write("last.csv", "label,text\r\n1,hello\r\n0,\"quoted\"\r\n1,end\r");
  EXPECT_EQ(Texts(ReadExamples(Source(last))),
            (std::vector<std::string>{"hello", "quoted", "end"}));
}

TEST(CsvReaderTest, SkipsUtf8BomAndBlankLines) {
  TempDir dir;
  const std::string path = dir.Write("bom.csv", "\xEF\xBB\xBFtext,label\n\nfirst,a\n\n\nsecond,b");
  const DatasetHeader header = ReadHeader(Source(path));
  EXPECT_EQ(header.format, Format::kCsv);
  EXPECT_EQ(header.columns, (std::vector<std::string>{"text", "label"}));
  const std::vector<RawExample> examples = ReadExamples(Source(path));
  EXPECT_EQ(Texts(examples), (std::vector<std::string>{"first", "second"}));
  EXPECT_EQ(Lines(examples), (std::vector<std::size_t>{3, 6}));
}

TEST(CsvReaderTest, PicksNamedColumnsAndTrimsLabels) {
  TempDir dir;
  const std::string path = dir.Write(
      "cols.csv",
      "id,sentence,category\n7,\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\", pos \n8,x,\tneg\r\n");
  const std::vector<RawExample> examples = ReadExamples(Source(path, "sentence", "category"));
  EXPECT_EQ(Texts(examples),
            (std::vector<std::string>{"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80", "x"}));
  EXPECT_EQ(Labels(examples), (std::vector<std::string>{"pos", "neg"}));
}

TEST(TsvReaderTest, UnquotedSst2StyleAndQuotedFields) {
  TempDir dir;
  const std::string path = dir.Write("dev.tsv",
                                     "sentence\tlabel\nit 's a \"charming\" journey . "
                                     "\t1\n\"quoted\ttab, \"\"q\"\"\"\t0\na,b\t1\n");
  const DatasetHeader header = ReadHeader(Source(path));
  EXPECT_EQ(header.format, Format::kTsv);
  EXPECT_EQ(header.columns, (std::vector<std::string>{"sentence", "label"}));
  const std::vector<RawExample> examples = ReadExamples(Source(path, "sentence"));
  EXPECT_EQ(Texts(examples), (std::vector<std::string>{"it 's a \"charming\" journey . ",
                                                       "quoted\ttab, \"q\"", "a,b"}));
  EXPECT_EQ(Labels(examples), (std::vector<std::string>{"1", "0", "1"}));
}

TEST(TsvReaderTest, WrongFieldCount) {
  TempDir dir;
  const std::string path = dir.Write("bad.tsv", "sentence\tlabel\nok\t1\nno tab here\n");
  EXPECT_DATA_ERROR(ReadExamples(Source(path, "sentence")), path, 3, 2,
                    "expected 2 fields (as in the header) but got 1");
}

TEST(CsvErrorTest, UnterminatedQuoteReportsWhereItOpened) {
  TempDir dir;
  const std::string path = dir.Write("a.csv", "text,label\nok,1\n\"never closed,1\nmore,0\n");
  EXPECT_DATA_ERROR(ReadExamples(Source(path)), path, 3, 1, "unterminated quoted field");
  // The record starts on line 2, the second field's quote opens on line 3.
  const std::string later = dir.Write("b.csv", "text,label\n\"a\nb\",\"oops\n0\n");
  EXPECT_DATA_ERROR(ReadExamples(Source(later)), later, 3, 2, "unterminated quoted field");
}

TEST(CsvErrorTest, TextAfterClosingQuote) {
  TempDir dir;
  const std::string path = dir.Write("a.csv", "text,label\nfine,1\n\"x\ny\"z,1\n");
  EXPECT_DATA_ERROR(ReadExamples(Source(path)), path, 4, 1, "after the closing quote");
}

TEST(CsvErrorTest, TooManyAndTooFewFields) {
  TempDir dir;
  const std::string many = dir.Write("many.csv", "text,label\n\"a\nb\",1\nb,1,extra\n");
  EXPECT_DATA_ERROR(ReadExamples(Source(many)), many, 4, 3, "expected 2 fields");
  EXPECT_DATA_ERROR(ReadExamples(Source(many)), many, 4, 3, "got 3");
  const std::string few = dir.Write("few.csv", "a,text,label\n1,x,0\n2\n");
  EXPECT_DATA_ERROR(ReadExamples(Source(few)), few, 3, 2,
                    "expected 3 fields (as in the header) but got 1");
}

TEST(CsvErrorTest, MissingColumnsListTheHeader) {
  TempDir dir;
  const std::string path = dir.Write("a.csv", "sentence,label\nx,1\n");
  EXPECT_DATA_ERROR(
      ReadExamples(Source(path)), path, 1, 0,
      "no text column \"text\" in the header; its columns are \"sentence\", \"label\"");
  EXPECT_DATA_ERROR(ReadExamples(Source(path, "sentence", "y")), path, 1, 0,
                    "no label column \"y\"");
  const std::string twice = dir.Write("b.csv", "text,text,label\nx,y,1\n");
  EXPECT_DATA_ERROR(ReadExamples(Source(twice)), twice, 1, 0, "appears more than once");
}

TEST(CsvErrorTest, EmptyLabel) {
  TempDir dir;
  const std::string path = dir.Write("a.csv", "label,text\n1,a\n,b\n");
  EXPECT_DATA_ERROR(ReadExamples(Source(path)), path, 3, 1, "empty label in column \"label\"");
  const std::string blank = dir.Write("b.csv", "text,label\na,1\nb,  \t\n");
  EXPECT_DATA_ERROR(ReadExamples(Source(blank)), blank, 3, 2, "empty label");
}

TEST(CsvErrorTest, InvalidUtf8NamesTheLine) {
  TempDir dir;
  const std::vector<std::string> bad = {
      "\xFF",              // never valid
      "\xC0\xAF",          // overlong '/'
      "\xE0\x80\xAF",      // overlong, three bytes
      "\xED\xA0\x80",      // UTF-16 surrogate
      "\xF4\x90\x80\x80",  // above U+10FFFF
      "\xC3(",             // missing continuation byte
      "caf\xE9",           // Latin-1 e-acute
  };
  for (const std::string& bytes : bad) {
    const std::string path =
        dir.Write("a.csv", "text,label\nok,1\n\"two\nlines " + bytes + "\",0\n");
    EXPECT_DATA_ERROR(ReadExamples(Source(path)), path, 4, 0, "not valid UTF-8");
  }
  const std::string truncated = dir.Write("b.csv", "text,label\nok,1\nend\xE2\x82");
  EXPECT_DATA_ERROR(ReadExamples(Source(truncated)), truncated, 3, 0, "not valid UTF-8");
}

TEST(CsvErrorTest, NulByteMeansBinary) {
  TempDir dir;
  const std::string path = dir.Write("a.csv", std::string("text,label\nok,1\nb\0c,0\n", 22));
  EXPECT_DATA_ERROR(ReadExamples(Source(path)), path, 3, 0, "NUL byte");
  EXPECT_DATA_ERROR(ReadHeader(Source(path)), path, 3, 0, "binary file");
}

TEST(CsvErrorTest, EmptyFileAndHeaderOnly) {
  TempDir dir;
  const std::string empty = dir.Write("empty.csv", "");
  EXPECT_DATA_ERROR(ReadExamples(Source(empty)), empty, 0, 0, "empty file");
  EXPECT_DATA_ERROR(ReadHeader(Source(empty)), empty, 0, 0, "empty file");
  const std::string blank = dir.Write("blank.csv", "\n\r\n\n");
  EXPECT_DATA_ERROR(ReadExamples(Source(blank)), blank, 0, 0, "empty file");
  const std::string bom_only = dir.Write("bom.csv", "\xEF\xBB\xBF");
  EXPECT_DATA_ERROR(ReadExamples(Source(bom_only)), bom_only, 0, 0, "empty file");
  const std::string header_only = dir.Write("header.csv", "text,label\n\n");
  EXPECT_DATA_ERROR(ReadExamples(Source(header_only)), header_only, 0, 0, "no examples");
  EXPECT_EQ(ReadHeader(Source(header_only)).columns, (std::vector<std::string>{"text", "label"}));
}

TEST(CsvErrorTest, RefusesFieldsAndRecordsOver16MiB) {
  TempDir dir;
  const std::string big(std::size_t{17} << 20, 'x');
  const std::string unquoted = dir.Write("a.csv", "text,label\nok,1\n" + big + ",0\n");
  EXPECT_DATA_ERROR(ReadExamples(Source(unquoted)), unquoted, 3, 1, "field longer than 16 MiB");
  const std::string quoted = dir.Write("b.csv", "text,label\nok,1\nz,\"\n" + big + "\"\n");
  EXPECT_DATA_ERROR(ReadExamples(Source(quoted)), quoted, 3, 2, "field longer than 16 MiB");
  const std::string commas(std::size_t{17} << 20, ',');
  const std::string wide = dir.Write("c.csv", "text,label\nok,1\n" + commas + "\n");
  EXPECT_DATA_ERROR(ReadExamples(Source(wide)), wide, 3, 0, "record longer than 16 MiB");
}

TEST(CsvErrorTest, MissingFile) {
  TempDir dir;
  const std::string path = (dir.path() / "nope.csv").string();
  EXPECT_DATA_ERROR(ReadExamples(Source(path)), path, 0, 0, "no such file or directory");
  EXPECT_DATA_ERROR(ReadHeader(Source(path)), path, 0, 0, "no such file or directory");
}

}  // namespace
}  // namespace ft::data
