// The pure parts of the fetch library: numpy's legacy permutation (checked against numpy's own
// output and against the labels of the seed's real IMDB split), Hub model ids, the tar.gz
// reader (including malformed archives) and file digests.
#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "common/fetch/file_digest.h"
#include "common/fetch/hub_model.h"
#include "common/fetch/numpy_permutation.h"
#include "common/fetch/tar_gz_reader.h"
#include "tests/support/prerequisite.h"
#include "tests/support/temp_dir.h"

namespace ft::fetch {
namespace {

TEST(NumpyPermutation, EqualsNumpysOwnOutput) {
  // python3 -c "import numpy; print(numpy.random.RandomState(1).permutation(10))"
  EXPECT_EQ(NumpyLegacyPermutation(1, 10), (std::vector<int64_t>{2, 9, 6, 4, 0, 3, 1, 7, 8, 5}));
  // numpy.random.RandomState(0).permutation(7)
  EXPECT_EQ(NumpyLegacyPermutation(0, 7), (std::vector<int64_t>{6, 2, 1, 3, 0, 5, 4}));
  const auto big = NumpyLegacyPermutation(1, 50000);
  EXPECT_EQ(big[0], 26247);
  EXPECT_EQ(big[1], 35067);
  EXPECT_EQ(big[49999], 33003);
}

// The labels of ../shared/data/imdb's train, val and test CSVs, in order, are exactly the
// labels of the 50,000 reviews (test/pos, test/neg, train/pos, train/neg; 12,500 each) in the
// order of RandomState(1)'s permutation: the seed's split.
TEST(NumpyPermutation, ReproducesTheSeedsImdbSplitLabels) {
  const char* shared = std::getenv("FT_SHARED_DATA");
  const std::filesystem::path imdb = std::filesystem::path(shared ? shared : "") / "imdb";
  if (!shared || !std::filesystem::exists(imdb / "train.csv"))
    FT_SKIP_PREREQUISITE_MISSING() << "no shared data";
  std::vector<int> labels;
  for (const char* file : {"train.csv", "val.csv", "test.csv"}) {
    std::ifstream in(imdb / file, std::ios::binary);
    std::stringstream all;
    all << in.rdbuf();
    const std::string text = all.str();
    // The label is the last field of each record; records end with ",0\n" or ",1\n" outside
    // quotes. Walk the CSV quoting to find record ends.
    bool quoted = false;
    size_t line_start = text.find('\n') + 1;  // skip the header
    for (size_t i = line_start; i < text.size(); ++i) {
      if (text[i] == '"') quoted = !quoted;
      if (text[i] == '\n' && !quoted) {
        labels.push_back(text[i - 1] - '0');
        line_start = i + 1;
      }
    }
  }
  ASSERT_EQ(labels.size(), 50000u);
  const auto order = NumpyLegacyPermutation(1, 50000);
  int matches = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    const int64_t source = order[i];
    const int expected = (source < 12500 || (source >= 25000 && source < 37500)) ? 1 : 0;
    matches += labels[i] == expected;
  }
  EXPECT_EQ(matches, 50000);
}

TEST(HubModelId, ParsesOrgNameAndRevision) {
  auto ref = ParseHubModelId("bigscience/bloom-560m");
  ASSERT_TRUE(ref);
  EXPECT_EQ(ref->repo_id, "bigscience/bloom-560m");
  EXPECT_EQ(ref->revision, "main");
  ref = ParseHubModelId("org/name@v1.0");
  ASSERT_TRUE(ref);
  EXPECT_EQ(ref->revision, "v1.0");
  for (const char* bad : {"bloom", "/abs/path", "./rel/path", "a/b/c", "org/..", "org/na me",
                          "scratch:bloom-tiny", "org/name@", "../x", "org/-x", "o--x/y", ""}) {
    EXPECT_FALSE(ParseHubModelId(bad)) << bad;
  }
}

TEST(HubModelId, EnvironmentDecidesEndpointCacheTokenAndOffline) {
  setenv("HF_ENDPOINT", "http://mirror.local:8080/", 1);
  setenv("HF_HOME", "/tmp/hf-home-test", 1);
  unsetenv("HF_HUB_CACHE");
  unsetenv("HUGGINGFACE_HUB_CACHE");
  setenv("HF_TOKEN", "abc", 1);
  setenv("HF_HUB_OFFLINE", "true", 1);
  const HubOptions options = HubOptions::FromEnvironment();
  EXPECT_EQ(options.endpoint, "http://mirror.local:8080");
  EXPECT_EQ(options.cache_dir, "/tmp/hf-home-test/hub");
  EXPECT_EQ(options.token, "abc");
  EXPECT_TRUE(options.offline);
  unsetenv("HF_ENDPOINT");
  unsetenv("HF_HOME");
  unsetenv("HF_TOKEN");
  unsetenv("HF_HUB_OFFLINE");
}

// A minimal ustar writer: header fields as tar(1) writes them.
void AppendTarEntry(std::string& tar, const std::string& name, const std::string& content,
                    char type = '0') {
  std::string header(512, '\0');
  name.copy(&header[0], std::min<size_t>(name.size(), 100));
  std::snprintf(&header[100], 8, "%07o", 0644);
  std::snprintf(&header[108], 8, "%07o", 0);
  std::snprintf(&header[116], 8, "%07o", 0);
  std::snprintf(&header[124], 12, "%011o", static_cast<unsigned>(content.size()));
  std::snprintf(&header[136], 12, "%011o", 0);
  header[156] = type;
  std::string("ustar").copy(&header[257], 5);
  header[262] = '\0';
  header[263] = '0';
  header[264] = '0';
  std::fill(header.begin() + 148, header.begin() + 156, ' ');
  unsigned sum = 0;
  for (unsigned char c : header) sum += c;
  std::snprintf(&header[148], 8, "%06o", sum);
  tar += header;
  tar += content;
  tar += std::string((512 - content.size() % 512) % 512, '\0');
}

void WriteGz(const std::string& path, const std::string& bytes) {
  gzFile file = gzopen(path.c_str(), "wb");
  gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(file);
}

TEST(TarGz, ReadsRegularFilesIncludingGnuLongNames) {
  ft::testing::TempDir dir;
  std::string tar;
  AppendTarEntry(tar, "aclImdb/train/pos/1_9.txt", "great, \"fun\"");
  AppendTarEntry(tar, "aclImdb/train/", "", '5');
  const std::string long_name = "aclImdb/" + std::string(120, 'x') + ".txt";
  AppendTarEntry(tar, "././@LongLink", long_name + std::string(1, '\0'), 'L');
  AppendTarEntry(tar, "truncated-name", "long one");
  AppendTarEntry(tar, "skip.bin", std::string(3000, 'z'));
  tar += std::string(1024, '\0');
  const std::string archive = dir.path().string() + "/a.tar.gz";
  WriteGz(archive, tar);
  std::map<std::string, std::string> got;
  std::vector<std::string> offered;
  ReadTarGz(
      archive,
      [&](const std::string& path, int64_t) {
        offered.push_back(path);
        return path != "skip.bin";
      },
      [&](const std::string& path, std::string content) { got[path] = content; });
  EXPECT_EQ(offered, (std::vector<std::string>{"aclImdb/train/pos/1_9.txt", long_name, "skip.bin"}));
  EXPECT_EQ(got["aclImdb/train/pos/1_9.txt"], "great, \"fun\"");
  EXPECT_EQ(got[long_name], "long one");
  EXPECT_EQ(got.size(), 2u);
}

TEST(TarGz, RefusesDamagedArchivesNamingTheFile) {
  ft::testing::TempDir dir;
  std::string tar;
  AppendTarEntry(tar, "a.txt", std::string(2000, 'a'));
  const std::string truncated = dir.path().string() + "/truncated.tar.gz";
  WriteGz(truncated, tar.substr(0, 1000));
  std::string corrupt_header = tar;
  corrupt_header[10] ^= 1;  // the checksum no longer matches
  const std::string bad_header = dir.path().string() + "/header.tar.gz";
  WriteGz(bad_header, corrupt_header);
  const std::string not_gzip = dir.path().string() + "/plain.tar.gz";
  std::ofstream(not_gzip) << "this is not gzip at all, and not tar either";
  for (const std::string& path : {truncated, bad_header, not_gzip}) {
    try {
      ReadTarGz(
          path, [](const std::string&, int64_t) { return true; },
          [](const std::string&, std::string) {});
      ADD_FAILURE() << path << " was accepted";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
    }
  }
}

TEST(FileDigest, MatchesKnownValues) {
  ft::testing::TempDir dir;
  const std::string path = dir.path().string() + "/hello.txt";
  std::ofstream(path) << "hello\n";
  EXPECT_EQ(FileDigest(path, DigestKind::kSha256),
            "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03");
  EXPECT_EQ(FileDigest(path, DigestKind::kMd5), "b1946ac92492d2347c6235b4d2611184");
  EXPECT_EQ(FileDigest(path, DigestKind::kSha1), "f572d396fae9206628714fb2ce00f72e94f2258f");
  // `git hash-object hello.txt`
  EXPECT_EQ(FileDigest(path, DigestKind::kGitBlobSha1), "ce013625030ba8dba906f756967f9e9ca394464a");
}

}  // namespace
}  // namespace ft::fetch
