// Tests of the training core's parts that need no LibTorch: tokenizer, sampler, progress meter,
// safetensors writer, ALiBi slopes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "common/tokenize/byte_tokenizer.h"
#include "tests/support/temp_dir.h"
#include "worker/data/example_sampler.h"
#include "worker/eval/progress_meter.h"
#include "worker/io/safetensors_writer.h"
#include "worker/models/alibi.h"

namespace ft {
namespace {

using tokenize::ByteTokenizer;

TEST(ByteTokenizerTest, SpecialIdsAreBlooms) {
  EXPECT_EQ(ByteTokenizer::kUnkId, 0);
  EXPECT_EQ(ByteTokenizer::kBosId, 1);
  EXPECT_EQ(ByteTokenizer::kEosId, 2);
  EXPECT_EQ(ByteTokenizer::kPadId, 3);
  EXPECT_EQ(ByteTokenizer::kVocabSize, 260);
}

TEST(ByteTokenizerTest, EncodesUtf8BytesWithOffsetFour) {
  const ByteTokenizer tokenizer;
  EXPECT_EQ(tokenizer.Encode("Hi!", 16), (std::vector<int64_t>{4 + 72, 4 + 105, 4 + 33}));
  // "é" is 0xC3 0xA9 in UTF-8; byte 255 is the largest id.
  EXPECT_EQ(tokenizer.Encode("\xC3\xA9\xFF", 16), (std::vector<int64_t>{4 + 0xC3, 4 + 0xA9, 259}));
  EXPECT_TRUE(tokenizer.Encode("", 16).empty());
}

TEST(ByteTokenizerTest, TruncatesToTheHead) {
  const ByteTokenizer tokenizer;
  EXPECT_EQ(tokenizer.Encode("abcdef", 3), (std::vector<int64_t>{4 + 'a', 4 + 'b', 4 + 'c'}));
  EXPECT_TRUE(tokenizer.Encode("abc", 0).empty());
  EXPECT_EQ(tokenizer.Decode(tokenizer.Encode("hello world", 5)), "hello");
}

TEST(ByteTokenizerTest, ConfigJsonDescribesTheScheme) {
  const auto config = nlohmann::json::parse(ByteTokenizer().ConfigJson(128));
  EXPECT_EQ(config["byte_offset"], 4);
  EXPECT_EQ(config["vocab_size"], 260);
  EXPECT_EQ(config["model_max_length"], 128);
  EXPECT_EQ(config["special_tokens"]["<pad>"], 3);
}

TEST(UniformBelowTest, StaysInRangeAndCoversIt) {
  std::mt19937_64 generator(5);
  std::vector<int> counts(6, 0);
  constexpr int kDraws = 60000;
  for (int i = 0; i < kDraws; ++i) {
    const uint64_t value = train::UniformBelow(generator, 6);
    ASSERT_LT(value, 6u);
    ++counts[value];
  }
  for (int count : counts) EXPECT_NEAR(count, kDraws / 6, 500);
}

std::vector<std::size_t> Flatten(const std::vector<train::Window>& windows) {
  std::vector<std::size_t> flat;
  for (const auto& window : windows) {
    for (const auto& micro_batch : window.micro_batches) {
      flat.insert(flat.end(), micro_batch.begin(), micro_batch.end());
    }
  }
  return flat;
}

TEST(EpochOrderTest, IsAPermutationThatDependsOnSeedAndEpoch) {
  const auto order = train::EpochOrder(100, 42, 1);
  EXPECT_EQ(std::set<std::size_t>(order.begin(), order.end()).size(), 100u);
  EXPECT_EQ(*std::max_element(order.begin(), order.end()), 99u);
  EXPECT_EQ(order, train::EpochOrder(100, 42, 1));
  EXPECT_NE(order, train::EpochOrder(100, 43, 1));
  EXPECT_NE(order, train::EpochOrder(100, 42, 2));
}

// mt19937_64 and our bounded helper are fully specified, so the order must be the same on every
// platform and standard library; a change here breaks the reproducibility of old jobs.
TEST(EpochOrderTest, IsPinned) {
  EXPECT_EQ(train::EpochOrder(10, 42, 1), (std::vector<std::size_t>{2, 8, 7, 3, 6, 4, 0, 9, 5, 1}));
}

TEST(PlanWindowsTest, OrderDoesNotDependOnMicroBatchSize) {
  const auto order = train::EpochOrder(37, 9, 1);
  const auto accumulated = train::PlanWindows(order, 2, 4);
  const auto single = train::PlanWindows(order, 8, 1);
  EXPECT_EQ(Flatten(accumulated), order);
  EXPECT_EQ(Flatten(single), order);
  ASSERT_EQ(accumulated.size(), single.size());
  for (std::size_t i = 0; i < single.size(); ++i) {
    EXPECT_EQ(Flatten({accumulated[i]}), Flatten({single[i]})) << "window " << i;
  }
}

TEST(PlanWindowsTest, CutsAShortLastWindowIntoMicroBatches) {
  const auto order = train::EpochOrder(23, 1, 1);
  const auto windows = train::PlanWindows(order, 2, 4);
  ASSERT_EQ(windows.size(), 3u);
  EXPECT_EQ(windows[0].size(), 8u);
  EXPECT_EQ(windows[1].size(), 8u);
  EXPECT_EQ(windows[2].size(), 7u);
  std::vector<std::size_t> sizes;
  for (const auto& micro_batch : windows[2].micro_batches) sizes.push_back(micro_batch.size());
  EXPECT_EQ(sizes, (std::vector<std::size_t>{2, 2, 2, 1}));
  EXPECT_EQ(windows[0].micro_batches.size(), 4u);
  EXPECT_EQ(train::StepsPerEpoch(23, 2, 4), 3);
  EXPECT_EQ(train::StepsPerEpoch(24, 2, 4), 3);
  EXPECT_EQ(train::StepsPerEpoch(25, 2, 4), 4);
}

TEST(ProgressMeterTest, AveragesOverTheInterval) {
  train::ProgressMeter meter(10);
  meter.RecordStep(1.0, 8, 100);
  meter.RecordStep(3.0, 8, 300);
  const train::ProgressReport report = meter.TakeReport(2, 1, 8.0, 0.5, 1.5);
  EXPECT_DOUBLE_EQ(report.loss, 0.5);
  EXPECT_DOUBLE_EQ(report.samples_per_second, 4.0);
  EXPECT_DOUBLE_EQ(report.tokens_per_second, 100.0);
  EXPECT_DOUBLE_EQ(report.step_seconds, 2.0);
  EXPECT_DOUBLE_EQ(report.eta_seconds, 16.0);
  EXPECT_EQ(report.step_durations, (std::vector<double>{1.0, 3.0}));
  EXPECT_EQ(report.samples_seen, 16);
  EXPECT_EQ(report.tokens_seen, 400);
  EXPECT_EQ(report.total_steps, 10);

  meter.RecordStep(2.0, 4, 40);
  const train::ProgressReport next = meter.TakeReport(3, 1, 2.0, 0.5, 1.0);
  EXPECT_DOUBLE_EQ(next.loss, 0.5);
  EXPECT_EQ(next.step_durations.size(), 1u);
  EXPECT_EQ(next.samples_seen, 20);
}

std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(SafetensorsWriterTest, WritesAParsableAlignedFile) {
  const testing::TempDir dir;
  const auto path = dir.path() / "t.safetensors";
  const std::vector<float> b_data{1.5f, -2.0f, 3.25f, 4.0f, 5.0f, 6.0f};
  const std::vector<float> a_data{7.0f};
  io::WriteSafetensors(path.string(),
                       {{"b.weight", {2, 3}, b_data.data()}, {"a", {1}, a_data.data()}});
  EXPECT_FALSE(std::filesystem::exists(path.string() + ".tmp"));

  const std::string bytes = ReadAll(path);
  ASSERT_GE(bytes.size(), 8u);
  uint64_t header_size = 0;
  for (int i = 7; i >= 0; --i)
    header_size = (header_size << 8) | static_cast<unsigned char>(bytes[i]);
  EXPECT_EQ(header_size % 8, 0u);
  const auto header = nlohmann::json::parse(bytes.substr(8, header_size));
  EXPECT_EQ(header["__metadata__"]["format"], "pt");
  // Name order: "a" first.
  EXPECT_EQ(header["a"]["data_offsets"], (std::vector<uint64_t>{0, 4}));
  EXPECT_EQ(header["b.weight"]["data_offsets"], (std::vector<uint64_t>{4, 28}));
  EXPECT_EQ(header["b.weight"]["shape"], (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(header["b.weight"]["dtype"], "F32");
  ASSERT_EQ(bytes.size(), 8 + header_size + 28);
  std::vector<float> round_trip(6);
  std::memcpy(round_trip.data(), bytes.data() + 8 + header_size + 4, 24);
  EXPECT_EQ(round_trip, b_data);
}

TEST(SafetensorsWriterTest, RejectsDuplicateNames) {
  const float value = 1;
  EXPECT_THROW(io::WriteSafetensors("/nonexistent-dir/x", {{"a", {1}, &value}, {"a", {1}, &value}}),
               std::runtime_error);
}

TEST(AlibiSlopesTest, PowerOfTwoHeads) {
  EXPECT_EQ(models::AlibiSlopes(4), (std::vector<float>{0.25f, 0.0625f, 0.015625f, 0.00390625f}));
  const auto eight = models::AlibiSlopes(8);
  ASSERT_EQ(eight.size(), 8u);
  for (int i = 0; i < 8; ++i) EXPECT_FLOAT_EQ(eight[i], std::ldexp(1.0f, -(i + 1)));
}

// Expected values worked out by hand from Hugging Face's build_alibi_tensor:
// 6 heads: closest power of two 4, base 2^-(2^-(log2(4)-3)) = 1/4 -> 1/4, 1/16, 1/64, 1/256;
// extra base 2^-(2^-(log2(8)-3)) = 1/2, min(4, 2) = 2 extra heads with odd powers 1, 3.
TEST(AlibiSlopesTest, NonPowerOfTwoHeadsFollowHuggingFace) {
  EXPECT_EQ(models::AlibiSlopes(6),
            (std::vector<float>{0.25f, 0.0625f, 0.015625f, 0.00390625f, 0.5f, 0.125f}));
  // 12 heads: 8 heads of 2^-k, then 4 odd powers of 2^-(1/2).
  const auto twelve = models::AlibiSlopes(12);
  ASSERT_EQ(twelve.size(), 12u);
  const double extra[] = {std::pow(2.0, -0.5), std::pow(2.0, -1.5), std::pow(2.0, -2.5),
                          std::pow(2.0, -3.5)};
  for (int i = 0; i < 4; ++i) EXPECT_FLOAT_EQ(twelve[8 + i], static_cast<float>(extra[i]));
  EXPECT_EQ(models::AlibiSlopes(1), (std::vector<float>{0.00390625f}));
  EXPECT_EQ(models::AlibiSlopes(3).size(), 3u);
}

}  // namespace
}  // namespace ft
