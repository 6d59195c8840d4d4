// Our ids equal those of the Rust `tokenizers` library 0.23.2 (tests/fixtures/hf/tokenizers,
// computed by tests/gpu/hf_reference.py) for GPT-2 and all-MiniLM-L6-v2 on 9,390 real texts.
#include <gtest/gtest.h>
#include <zlib.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/tokenize/tokenizer.h"
#include "tests/support/prerequisite.h"

namespace ft::tokenize {
namespace {

std::vector<std::string> GzipLines(const std::string& path) {
  gzFile file = gzopen(path.c_str(), "rb");
  if (file == nullptr) {
    ADD_FAILURE() << path << ": cannot be opened";
    return {};
  }
  std::string content;
  char buffer[1 << 16];
  int read;
  while ((read = gzread(file, buffer, sizeof(buffer))) > 0) content.append(buffer, read);
  gzclose(file);
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < content.size()) {
    std::size_t end = content.find('\n', start);
    if (end == std::string::npos) end = content.size();
    if (end > start) lines.push_back(content.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

std::string FixtureDir() {
  return (std::filesystem::path(std::getenv("FT_SOURCE_DIR")) / "tests/fixtures/hf/tokenizers")
      .string();
}

void CheckAgainstRust(const std::string& name) {
  const char* shared = std::getenv("FT_SHARED_DATA");
  const std::filesystem::path tokenizer_path =
      std::filesystem::path(shared == nullptr ? "" : shared) / "tokenizers" / name /
      "tokenizer.json";
  if (!std::filesystem::exists(tokenizer_path)) FT_SKIP_PREREQUISITE_MISSING() << tokenizer_path << " absent";
  const auto tokenizer = Tokenizer::FromFile(tokenizer_path.string());
  const std::vector<std::string> texts = GzipLines(FixtureDir() + "/texts.jsonl.gz");
  const std::vector<std::string> expected =
      GzipLines(FixtureDir() + "/" + name + ".rust-ids.jsonl.gz");
  ASSERT_EQ(texts.size(), 9390u);
  ASSERT_EQ(expected.size(), texts.size());
  std::size_t differing = 0;
  std::size_t ids = 0;
  double seconds = 0;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const std::string text = nlohmann::json::parse(texts[i]).at("text").get<std::string>();
    const std::vector<int64_t> want =
        nlohmann::json::parse(expected[i]).get<std::vector<int64_t>>();
    const auto start = std::chrono::steady_clock::now();
    const std::vector<int64_t> got = tokenizer->Encode(text);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ids += got.size();
    if (got != want && ++differing <= 3) {
      ADD_FAILURE() << name << ": text " << i << " differs: " << texts[i].substr(0, 300)
                    << "\n ours: " << nlohmann::json(got).dump().substr(0, 300)
                    << "\n rust: " << expected[i].substr(0, 300);
    }
  }
  EXPECT_EQ(differing, 0u) << "of " << texts.size() << " texts";
  std::printf("%s: %zu texts, %zu ids, %zu differ; encoding took %.3f s\n", name.c_str(),
              texts.size(), ids, differing, seconds);
}

TEST(RustParityTest, Gpt2) { CheckAgainstRust("gpt2"); }

// GPT-2's byte-level BPE loses nothing: the Rust library's ids of every text decode to the text.
TEST(RustParityTest, Gpt2DecodesTheRustIdsBackToTheTexts) {
  const char* shared = std::getenv("FT_SHARED_DATA");
  const std::filesystem::path tokenizer_path =
      std::filesystem::path(shared == nullptr ? "" : shared) / "tokenizers/gpt2/tokenizer.json";
  if (!std::filesystem::exists(tokenizer_path)) FT_SKIP_PREREQUISITE_MISSING() << tokenizer_path << " absent";
  const auto tokenizer = Tokenizer::FromFile(tokenizer_path.string());
  const std::vector<std::string> texts = GzipLines(FixtureDir() + "/texts.jsonl.gz");
  const std::vector<std::string> ids = GzipLines(FixtureDir() + "/gpt2.rust-ids.jsonl.gz");
  ASSERT_EQ(ids.size(), texts.size());
  std::size_t differing = 0;
  for (std::size_t i = 0; i < texts.size(); ++i) {
    const std::string text = nlohmann::json::parse(texts[i]).at("text").get<std::string>();
    const std::string decoded =
        tokenizer->Decode(nlohmann::json::parse(ids[i]).get<std::vector<int64_t>>());
    if (decoded != text && ++differing <= 3) {
      ADD_FAILURE() << "text " << i << ": " << text.substr(0, 200) << "\n decoded: "
                    << decoded.substr(0, 200);
    }
  }
  EXPECT_EQ(differing, 0u) << "of " << texts.size() << " texts";
}
TEST(RustParityTest, AllMiniLmL6V2) { CheckAgainstRust("all-MiniLM-L6-v2"); }

}  // namespace
}  // namespace ft::tokenize
