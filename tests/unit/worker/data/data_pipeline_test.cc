// The data pipeline's parts that need no LibTorch: flat token tables, the epoch plan (windows
// before micro-batches, length-grouped sampling), file identities and the token cache.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tests/support/prerequisite.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/worker/csv_fixture.h"
#include "worker/data/epoch_plan.h"
#include "worker/data/file_identity.h"
#include "worker/data/job_data.h"
#include "worker/data/token_cache.h"
#include "worker/data/token_table.h"

namespace ft {
namespace {

namespace fs = std::filesystem;
using testing::ReadAll;
using testing::SentimentCsv;
using testing::WriteFile;
using train::EpochPlanOptions;
using train::PlanEpoch;
using train::Window;

// ---------------------------------------------------------------------------------------------
// TokenTable

TEST(TokenTableTest, StoresExamplesFlatAndWidensForLargeIds) {
  train::TokenTable table;
  table.push_back({5, 6, 7});
  table.push_back({});
  table.push_back({259});
  EXPECT_EQ(table.size(), 3u);
  EXPECT_EQ(table.width(), 2);
  EXPECT_EQ(table[0].ToVector(), (std::vector<int64_t>{5, 6, 7}));
  EXPECT_TRUE(table[1].empty());
  EXPECT_EQ(table.Lengths(), (std::vector<std::size_t>{3, 0, 1}));
  EXPECT_EQ(table.total_tokens(), 4u);

  table.push_back({70000, 1});  // a BPE-sized id: the table switches to 4 bytes per id
  EXPECT_EQ(table.width(), 4);
  EXPECT_EQ(table[0].ToVector(), (std::vector<int64_t>{5, 6, 7}));
  EXPECT_EQ(table[3].ToVector(), (std::vector<int64_t>{70000, 1}));
  const std::vector<int64_t> converted = table[2];  // the implicit copy for older code
  EXPECT_EQ(converted, std::vector<int64_t>{259});
  EXPECT_THROW(table.at(4), std::out_of_range);
  EXPECT_THROW(table.push_back({-1}), std::out_of_range);

  const train::TokenTable copy = table;  // owned storage is copied, not shared
  table.push_back({9});
  EXPECT_EQ(copy.size(), 4u);
  EXPECT_EQ(copy[3].ToVector(), (std::vector<int64_t>{70000, 1}));
}

// ---------------------------------------------------------------------------------------------
// Epoch plan

std::vector<std::size_t> RandomLengths(std::size_t n, uint64_t seed) {
  std::mt19937_64 generator(seed);
  std::vector<std::size_t> lengths(n);
  for (auto& length : lengths) length = 1 + generator() % 200;
  return lengths;
}

std::vector<std::size_t> Members(const Window& window) {
  std::vector<std::size_t> members;
  for (const auto& micro_batch : window.micro_batches) {
    members.insert(members.end(), micro_batch.begin(), micro_batch.end());
  }
  std::sort(members.begin(), members.end());
  return members;
}

class EpochPlanTest : public ::testing::TestWithParam<bool> {
 protected:
  EpochPlanOptions Plan(int64_t micro, int64_t accumulation, uint64_t seed = 3) const {
    return {micro, accumulation, seed, GetParam()};
  }
};

TEST_P(EpochPlanTest, EveryExampleOncePerEpoch) {
  const auto lengths = RandomLengths(1237, 1);  // 1237 = 154 windows of 8 and a short one of 5
  for (int64_t epoch : {1, 2, 3}) {
    const auto windows = PlanEpoch(lengths, Plan(2, 4), epoch);
    ASSERT_EQ(windows.size(), 155u);
    std::vector<std::size_t> seen;
    for (const Window& window : windows) {
      const auto members = Members(window);
      seen.insert(seen.end(), members.begin(), members.end());
    }
    std::sort(seen.begin(), seen.end());
    std::vector<std::size_t> all(lengths.size());
    std::iota(all.begin(), all.end(), std::size_t{0});
    EXPECT_EQ(seen, all) << "epoch " << epoch;
    EXPECT_EQ(windows.back().size(), 5u) << "the short window stays last";
  }
}

TEST_P(EpochPlanTest, WindowsHaveTheSameMembersWhateverTheMicroBatch) {
  const auto lengths = RandomLengths(999, 2);
  for (int64_t epoch : {1, 2}) {
    const auto accumulated = PlanEpoch(lengths, Plan(2, 4), epoch);
    const auto single = PlanEpoch(lengths, Plan(8, 1), epoch);
    const auto odd = PlanEpoch(lengths, Plan(1, 8), epoch);
    ASSERT_EQ(accumulated.size(), single.size());
    ASSERT_EQ(odd.size(), single.size());
    for (std::size_t i = 0; i < single.size(); ++i) {
      EXPECT_EQ(Members(accumulated[i]), Members(single[i])) << "epoch " << epoch << " window " << i;
      EXPECT_EQ(Members(odd[i]), Members(single[i])) << "epoch " << epoch << " window " << i;
      EXPECT_EQ(accumulated[i].micro_batches.size(), std::min<std::size_t>(4, (single[i].size() + 1) / 2));
    }
  }
}

TEST_P(EpochPlanTest, DependsOnlyOnSeedAndEpoch) {
  const auto lengths = RandomLengths(500, 3);
  const auto plan = PlanEpoch(lengths, Plan(4, 2, 7), 1);
  const auto again = PlanEpoch(lengths, Plan(4, 2, 7), 1);
  ASSERT_EQ(plan.size(), again.size());
  for (std::size_t i = 0; i < plan.size(); ++i) {
    EXPECT_EQ(plan[i].micro_batches, again[i].micro_batches);
  }
  const auto other_seed = PlanEpoch(lengths, Plan(4, 2, 8), 1);
  const auto other_epoch = PlanEpoch(lengths, Plan(4, 2, 7), 2);
  EXPECT_NE(Members(plan[0]), Members(other_seed[0]));
  EXPECT_NE(Members(plan[0]), Members(other_epoch[0]));
}

TEST_P(EpochPlanTest, MicroBatchesInsideAWindowAreSortedByLength) {
  const auto lengths = RandomLengths(64, 4);
  for (const Window& window : PlanEpoch(lengths, Plan(2, 4), 1)) {
    std::vector<std::size_t> in_order;
    for (const auto& micro_batch : window.micro_batches) {
      for (std::size_t index : micro_batch) in_order.push_back(lengths[index]);
    }
    EXPECT_TRUE(std::is_sorted(in_order.rbegin(), in_order.rend())) << "longest first";
  }
}

INSTANTIATE_TEST_SUITE_P(Samplers, EpochPlanTest, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "grouped_by_length" : "random";
                         });

TEST(LengthGroupedOrderTest, WindowsAreShuffledBlocksOfSimilarLength) {
  const auto lengths = RandomLengths(4000, 5);
  const std::size_t window = 16;
  const auto order = train::LengthGroupedOrder(lengths, 9, 1, window);
  ASSERT_EQ(order.size(), lengths.size());
  // Within a window the lengths are close; across windows they are not sorted (shuffled).
  double spread_sum = 0;
  std::vector<std::size_t> window_longest;
  for (std::size_t begin = 0; begin < order.size(); begin += window) {
    std::size_t longest = 0;
    std::size_t shortest = SIZE_MAX;
    for (std::size_t i = begin; i < begin + window; ++i) {
      longest = std::max(longest, lengths[order[i]]);
      shortest = std::min(shortest, lengths[order[i]]);
    }
    spread_sum += static_cast<double>(longest - shortest);
    window_longest.push_back(longest);
  }
  const double mean_spread = spread_sum / static_cast<double>(window_longest.size());
  EXPECT_LT(mean_spread, 20.0) << "lengths 1..200 in megabatches of 800: ~4 apart per window";
  EXPECT_FALSE(std::is_sorted(window_longest.begin(), window_longest.end()));
  EXPECT_FALSE(std::is_sorted(window_longest.rbegin(), window_longest.rend()));
  EXPECT_NE(order, train::LengthGroupedOrder(lengths, 9, 2, window));
}

TEST(EpochPlanHelpersTest, DivisorsAndRecut) {
  EXPECT_EQ(train::LargestDivisorAtMost(24, 16), 12);
  EXPECT_EQ(train::LargestDivisorAtMost(24, 8), 8);
  EXPECT_EQ(train::LargestDivisorAtMost(7, 4), 1);
  EXPECT_EQ(train::LargestDivisorAtMost(100, 64), 50);
  EXPECT_EQ(train::LargestDivisorAtMost(5, 99), 5);
  Window window;
  window.micro_batches = {{4, 5, 6, 7}, {1, 2}};
  const Window recut = train::RecutWindow(window, 3);
  EXPECT_EQ(recut.micro_batches, (std::vector<std::vector<std::size_t>>{{4, 5, 6}, {7, 1, 2}}));
}

TEST(PaddingTest, CountsPaddingPerMicroBatch) {
  const std::vector<std::size_t> lengths = {10, 2, 5, 5};
  Window window;
  window.micro_batches = {{0, 1}, {2, 3}};
  const train::PaddingCount count = train::CountPadding({window}, lengths);
  EXPECT_EQ(count.tokens, 22);
  EXPECT_EQ(count.slots, 30);
  EXPECT_NEAR(count.fraction(), 8.0 / 30, 1e-12);
}

// On real data with micro-batch 8 x 4, at most 256 tokens: sorting inside each window, then
// grouping windows by length, each cut the padding (figures printed, also in the test's XML).
TEST(PaddingTest, GroupingByLengthCutsPaddingOnRealData) {
  const char* shared = std::getenv("FT_SHARED_DATA");
  const fs::path root = shared != nullptr ? shared : "../shared/data";
  int measured = 0;
  for (const char* name : {"sms_spam/sms_spam.csv", "trec/train.csv"}) {
    const fs::path file = root / name;
    if (!fs::exists(file)) continue;
    train::TrainOptions options;
    options.train_path = file.string();
    options.validation_fraction = 0;
    options.max_seq_length = 256;
    const auto lengths = train::LoadJobData(options).train.input_ids.Lengths();
    const auto fraction = [&](bool sort_in_window, bool grouped) {
      train::PaddingCount total;
      for (int64_t epoch : {1, 2, 3}) {
        const std::vector<Window> windows =
            sort_in_window ? PlanEpoch(lengths, {8, 4, 1, grouped}, epoch)
                           : train::PlanWindows(train::EpochOrder(lengths.size(), 1, epoch), 8, 4);
        const train::PaddingCount count = train::CountPadding(windows, lengths);
        total.tokens += count.tokens;
        total.slots += count.slots;
      }
      return total.fraction();
    };
    const double plain = fraction(false, false);
    const double sorted = fraction(true, false);
    const double grouped = fraction(true, true);
    std::printf("padding, %s (%zu examples, <= 256 tokens), micro-batch 8 x 4: random %.1f %%, "
                "sorted inside windows %.1f %%, grouped by length %.1f %%\n",
                name, lengths.size(), 100 * plain, 100 * sorted, 100 * grouped);
    RecordProperty(std::string(name) + " random", std::to_string(plain));
    RecordProperty(std::string(name) + " sorted_in_window", std::to_string(sorted));
    RecordProperty(std::string(name) + " grouped", std::to_string(grouped));
    EXPECT_LE(sorted, plain) << name;
    EXPECT_LT(grouped, sorted / 2) << name;
    ++measured;
  }
  if (measured == 0) FT_SKIP_PREREQUISITE_MISSING() << "no data in " << root;
}

// ---------------------------------------------------------------------------------------------
// File identity

class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = temp_.path(); }
  testing::TempDir temp_;  // a fresh folder per test, whatever else runs beside it
  fs::path dir_;
};

using FileIdentityTest = TempDirTest;

TEST(ContentHashTest, SameBytesSameHashHoweverCut) {
  const std::string text = "the quick brown fox jumps over the lazy dog, twice over";
  train::ContentHash whole;
  whole.Add(text.data(), text.size());
  for (std::size_t cut : {1u, 3u, 7u, 8u, 13u}) {
    train::ContentHash pieces;
    for (std::size_t i = 0; i < text.size(); i += cut) {
      pieces.Add(text.data() + i, std::min(cut, text.size() - i));
    }
    EXPECT_EQ(pieces.Value(), whole.Value()) << "cut " << cut;
  }
  train::ContentHash padded;
  padded.Add((text + '\0').data(), text.size() + 1);
  EXPECT_NE(padded.Value(), whole.Value());
}

TEST_F(FileIdentityTest, ChangesWithContentEvenAtTheSameSizeAndTime) {
  const fs::path file = dir_ / "a.csv";
  WriteFile(file, "text,label\nhello,1\n");
  const std::string before = train::FileIdentity(file.string());
  EXPECT_EQ(train::FileIdentity(file.string()), before);
  struct stat info {};
  ASSERT_EQ(stat(file.c_str(), &info), 0);
  WriteFile(file, "text,label\nhellO,1\n");  // same size
  const struct timespec times[2] = {info.st_atim, info.st_mtim};
  ASSERT_EQ(utimensat(AT_FDCWD, file.c_str(), times, 0), 0);  // same mtime
  EXPECT_NE(train::FileIdentity(file.string()), before);

  fs::create_directories(dir_ / "folder" / "pos");
  WriteFile(dir_ / "folder" / "pos" / "1.txt", "good");
  const std::string folder = train::FileIdentity((dir_ / "folder").string());
  WriteFile(dir_ / "folder" / "pos" / "2.txt", "fine");
  EXPECT_NE(train::FileIdentity((dir_ / "folder").string()), folder);
  EXPECT_THROW(train::FileIdentity((dir_ / "missing.csv").string()), std::runtime_error);
}

// ---------------------------------------------------------------------------------------------
// Token cache through LoadJobData

class TokenCacheTest : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    WriteFile(dir_ / "train.csv", SentimentCsv(80, 1));
    WriteFile(dir_ / "test.csv", SentimentCsv(20, 2));
  }

  train::TrainOptions Options() const {
    train::TrainOptions options;
    options.train_path = (dir_ / "train.csv").string();
    options.test_path = (dir_ / "test.csv").string();
    options.validation_fraction = 0.25;
    options.max_seq_length = 24;
    options.seed = 5;
    options.token_cache_dir = (dir_ / "cache").string();
    return options;
  }

  std::vector<fs::path> CacheFiles() const {
    std::vector<fs::path> files;
    if (!fs::exists(dir_ / "cache")) return files;
    for (const auto& entry : fs::directory_iterator(dir_ / "cache")) files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    return files;
  }

  static void ExpectSameSplit(const train::TokenizedSplit& a, const train::TokenizedSplit& b) {
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.source, b.source);
    ASSERT_EQ(a.size(), b.size()) << a.name;
    EXPECT_EQ(a.labels, b.labels) << a.name;
    for (std::size_t i = 0; i < a.size(); ++i) {
      ASSERT_EQ(a.input_ids[i].ToVector(), b.input_ids[i].ToVector()) << a.name << " " << i;
    }
  }
  static void ExpectSameData(const train::JobData& a, const train::JobData& b) {
    EXPECT_EQ(a.label_names, b.label_names);
    ExpectSameSplit(a.train, b.train);
    ExpectSameSplit(a.validation, b.validation);
    ExpectSameSplit(a.test, b.test);
  }
};

TEST_F(TokenCacheTest, SecondLoadMapsTheSameTokensFromTheCache) {
  train::TrainOptions uncached = Options();
  uncached.token_cache_dir.clear();
  const train::JobData reference = train::LoadJobData(uncached);
  EXPECT_TRUE(CacheFiles().empty());
  EXPECT_EQ(reference.token_cache.hits + reference.token_cache.misses, 0);

  const train::JobData first = train::LoadJobData(Options());
  EXPECT_EQ(first.token_cache.hits, 0);
  EXPECT_EQ(first.token_cache.misses, 3);
  EXPECT_EQ(first.token_cache.written, 3);
  EXPECT_TRUE(first.token_cache.warnings.empty());
  EXPECT_EQ(CacheFiles().size(), 3u);
  EXPECT_FALSE(first.train.input_ids.mapped());

  const train::JobData second = train::LoadJobData(Options());
  EXPECT_EQ(second.token_cache.hits, 3);
  EXPECT_EQ(second.token_cache.misses, 0);
  EXPECT_TRUE(second.train.input_ids.mapped());
  EXPECT_TRUE(second.test.input_ids.mapped());
  ExpectSameData(second, reference);
  ExpectSameData(first, reference);

  // Another seed splits train differently: new train and validation entries, the same test one.
  train::TrainOptions reseeded = Options();
  reseeded.seed = 6;
  const train::JobData other = train::LoadJobData(reseeded);
  EXPECT_EQ(other.token_cache.misses, 3);
  EXPECT_EQ(CacheFiles().size(), 5u);
  reseeded.token_cache_dir.clear();
  ExpectSameData(other, train::LoadJobData(reseeded));
}

// ftd's budget removes the least recently used entries first, by modification time
// (server/housekeeping/token_cache_trim.h): a hit marks its entry used now.
TEST_F(TokenCacheTest, AHitMarksTheEntryAsUsedNow) {
  train::LoadJobData(Options());
  const auto day_ago = fs::file_time_type::clock::now() - std::chrono::hours(24);
  for (const fs::path& file : CacheFiles()) fs::last_write_time(file, day_ago);
  const train::JobData second = train::LoadJobData(Options());
  ASSERT_EQ(second.token_cache.hits, 3);
  for (const fs::path& file : CacheFiles()) {
    EXPECT_GT(fs::last_write_time(file), day_ago + std::chrono::hours(23)) << file;
  }
}

TEST_F(TokenCacheTest, DamagedEntriesAreIgnoredAndRebuilt) {
  const train::JobData reference = train::LoadJobData(Options());
  const std::vector<fs::path> files = CacheFiles();
  ASSERT_EQ(files.size(), 3u);

  // One flipped byte in the ids of the first file, the second cut short, the third emptied.
  std::string bytes = ReadAll(files[0]);
  bytes[bytes.size() - 3] ^= 0x01;
  WriteFile(files[0], bytes);
  fs::resize_file(files[1], fs::file_size(files[1]) - 100);
  WriteFile(files[2], "");

  const train::JobData rebuilt = train::LoadJobData(Options());
  EXPECT_EQ(rebuilt.token_cache.hits, 0);
  EXPECT_EQ(rebuilt.token_cache.written, 3);
  ASSERT_GE(rebuilt.token_cache.warnings.size(), 1u);
  EXPECT_NE(rebuilt.token_cache.warnings[0].find("ignoring"), std::string::npos)
      << rebuilt.token_cache.warnings[0];
  ExpectSameData(rebuilt, reference);

  const train::JobData again = train::LoadJobData(Options());
  EXPECT_EQ(again.token_cache.hits, 3) << "the rebuilt entries are used";
  EXPECT_TRUE(again.token_cache.warnings.empty());
  ExpectSameData(again, reference);
}

TEST_F(TokenCacheTest, AFlippedBitIsNeverWrongData) {
  const train::JobData reference = train::LoadJobData(Options());
  const std::vector<fs::path> files = CacheFiles();
  ASSERT_EQ(files.size(), 3u);
  const std::string original = ReadAll(files[0]);
  // A bit flipped anywhere (header, metadata, offsets, labels, ids) is detected.
  int detected = 0;
  for (std::size_t position = 0; position < original.size(); position += 5) {
    std::string damaged = original;
    damaged[position] ^= 0x10;
    WriteFile(files[0], damaged);
    const train::JobData data = train::LoadJobData(Options());
    if (data.token_cache.hits == 3) {
      ADD_FAILURE() << "byte " << position << " went unnoticed";
    } else {
      EXPECT_FALSE(data.token_cache.warnings.empty()) << "byte " << position;
      ++detected;
    }
  }
  EXPECT_GT(detected, 10);
}

TEST_F(TokenCacheTest, AChangedDataFileIsTokenizedAgain) {
  (void)train::LoadJobData(Options());
  WriteFile(dir_ / "test.csv", SentimentCsv(21, 3));
  const train::JobData data = train::LoadJobData(Options());
  EXPECT_EQ(data.token_cache.hits, 0);
  EXPECT_EQ(data.token_cache.misses, 3);
  EXPECT_EQ(data.test.size(), 21u);
  EXPECT_EQ(CacheFiles().size(), 4u) << "train and validation keep their entries; test gets one";

  // A changed training file changes every key: it decides the label map.
  WriteFile(dir_ / "train.csv", SentimentCsv(81, 4));
  const train::JobData retrained = train::LoadJobData(Options());
  EXPECT_EQ(retrained.token_cache.hits, 0);
  EXPECT_EQ(retrained.train.size() + retrained.validation.size(), 81u);

  // Other settings are other keys too.
  train::TrainOptions longer = Options();
  longer.max_seq_length = 25;
  EXPECT_EQ(train::LoadJobData(longer).token_cache.hits, 0);
}

TEST_F(TokenCacheTest, AnUnwritableCacheIsOnlyAWarning) {
  WriteFile(dir_ / "cache", "a file where the folder should be");
  const train::JobData data = train::LoadJobData(Options());
  EXPECT_EQ(data.token_cache.written, 0);
  EXPECT_FALSE(data.token_cache.warnings.empty());
  EXPECT_EQ(data.train.size() + data.validation.size(), 80u);
}

}  // namespace
}  // namespace ft
