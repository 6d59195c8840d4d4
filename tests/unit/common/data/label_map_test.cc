// LabelMap: integer labels keep their values as ids, others are sorted byte-wise.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/data/dataset.h"
#include "tests/unit/common/data/test_util.h"

namespace ft::data {
namespace {

std::vector<RawExample> WithLabels(const std::vector<std::string>& labels) {
  std::vector<RawExample> examples;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    examples.push_back(RawExample{"text " + std::to_string(i), labels[i], i + 2});
  }
  return examples;
}

RawExample Labeled(const std::string& label, std::size_t line) {
  return RawExample{"t", label, line};
}

TEST(LabelMapTest, IntegerLabelsAreTheirOwnIds) {
  const LabelMap map = LabelMap::Build(WithLabels({"3", "0", "1", "3", "0"}));
  EXPECT_EQ(map.num_labels(), 4u);  // 0..3; 2 is absent from the data but still a class
  EXPECT_EQ(map.names(), (std::vector<std::string>{"0", "1", "2", "3"}));
  EXPECT_EQ(map.IdOf(Labeled("0", 1), "f"), 0);
  EXPECT_EQ(map.IdOf(Labeled("3", 1), "f"), 3);
  EXPECT_EQ(map.IdOf(Labeled("1", 1), "f"), 1);
}

TEST(LabelMapTest, StringLabelsSortByteWise) {
  const LabelMap map = LabelMap::Build(WithLabels({"pos", "neg", "Neutral", "neg", "\xC3\xA9"}));
  EXPECT_EQ(map.names(), (std::vector<std::string>{"Neutral", "neg", "pos", "\xC3\xA9"}));
  EXPECT_EQ(map.IdOf(Labeled("Neutral", 1), "f"), 0);
  EXPECT_EQ(map.IdOf(Labeled("neg", 1), "f"), 1);
  EXPECT_EQ(map.IdOf(Labeled("pos", 1), "f"), 2);
  EXPECT_EQ(map.IdOf(Labeled("\xC3\xA9", 1), "f"), 3);
}

TEST(LabelMapTest, MixedOrNonCanonicalIntegersAreStrings) {
  EXPECT_EQ(LabelMap::Build(WithLabels({"10", "9", "x"})).names(),
            (std::vector<std::string>{"10", "9", "x"}));
  // "01" is not the integer 1 (it would otherwise share an id with "1").
  EXPECT_EQ(LabelMap::Build(WithLabels({"1", "01"})).names(),
            (std::vector<std::string>{"01", "1"}));
  EXPECT_EQ(LabelMap::Build(WithLabels({"+1", "2"})).names(),
            (std::vector<std::string>{"+1", "2"}));
}

TEST(LabelMapTest, IntegerRange) {
  EXPECT_DATA_ERROR(LabelMap::Build(WithLabels({"0", "-1"})), "", 3, 0,
                    "\"-1\" (line 3) is negative");
  EXPECT_DATA_ERROR(LabelMap::Build(WithLabels({"100001", "0"})), "", 2, 0, "too large");
  EXPECT_DATA_ERROR(LabelMap::Build(WithLabels({"99999999999999999999999"})), "", 2, 0,
                    "too large");
  EXPECT_EQ(LabelMap::Build(WithLabels({"100000"})).num_labels(), 100001u);
  EXPECT_DATA_ERROR(LabelMap::Build({}), "", 0, 0, "no training examples");
}

TEST(LabelMapTest, UnknownLabelNamesFileLineAndKnownLabels) {
  const LabelMap strings = LabelMap::Build(WithLabels({"pos", "neg"}));
  EXPECT_DATA_ERROR(strings.IdOf(Labeled("neutral", 42), "val.csv"), "val.csv", 42, 0,
                    "unknown label \"neutral\" in the label column: the training split has only "
                    "\"neg\", \"pos\"");
  // An integer inside 0..N-1 that the training split never had is still unknown.
  const LabelMap ints = LabelMap::Build(WithLabels({"0", "2"}));
  EXPECT_EQ(ints.num_labels(), 3u);
  EXPECT_DATA_ERROR(ints.IdOf(Labeled("1", 7), "test.csv"), "test.csv", 7, 0, "only \"0\", \"2\"");
  EXPECT_DATA_ERROR(ints.IdOf(Labeled("3", 8), "test.csv"), "test.csv", 8, 0,
                    "unknown label \"3\"");
}

TEST(LabelMapTest, LongLabelListsAreShortened) {
  std::vector<std::string> labels;
  for (int i = 0; i < 30; ++i) labels.push_back("l" + std::to_string(100 + i));
  const LabelMap map = LabelMap::Build(WithLabels(labels));
  EXPECT_DATA_ERROR(map.IdOf(Labeled("zzz", 1), "f"), "f", 1, 0, "\"l119\", ... (30 in all)");
}

}  // namespace
}  // namespace ft::data
