// Differential test against Hugging Face's Rust `tokenizers` itself (npm `tokenizers` 0.23.2, its
// native bindings run by node through tests/tokenize/hf_js_encode.mjs --rust; installed by
// scripts/install-test-deps.sh into build-deps/node_modules): the same ids, for every tokenizer.json
// of ../shared/data, the Llama-3/Qwen2/BLOOM-style pipelines and two pipelines of the other
// components that consult character classes, on
//   - the texts that ever differed (tests/fixtures/tokenize/rust_differential.jsonl), always, and
//   - kTexts adversarial texts of a seeded generator: words, whitespace runs and code points from
//     many Unicode blocks, unassigned and recently assigned ones included.
// FT_RUST_DIFF_TEXTS and FT_RUST_DIFF_SEED change the count and the seed (to explore; the CI run
// keeps the defaults). Skipped (reported as such by CTest) without node or the npm package.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "common/tokenize/tokenizer.h"
#include "common/tokenize/utf8.h"
#include "tests/support/prerequisite.h"
#include "tests/unit/common/tokenize/synthetic_tokenizers.h"

namespace ft::tokenize {
namespace {

constexpr std::size_t kTexts = 4000;
constexpr uint64_t kSeed = 19;

std::filesystem::path SharedData() {
  const char* root = std::getenv("FT_SHARED_DATA");
  return root == nullptr ? std::filesystem::path() : std::filesystem::path(root);
}

std::size_t EnvOr(const char* name, std::size_t fallback) {
  const char* value = std::getenv(name);
  return value == nullptr ? fallback : std::stoull(value);
}

struct Block {
  char32_t first, last;
};

// Blocks to draw code points from: scripts with marks and punctuation added in later Unicode
// versions, unassigned holes (U+05CD, U+20CD), spaces and controls, CJK, private use, tags,
// noncharacters, emoji, and blocks of Unicode 12 to 16 (U+1C89, U+A7CB, U+10D40, U+11938,
// U+16D40).
constexpr Block kBlocks[] = {
    {0x0000, 0x001F},   {0x0020, 0x007E},    {0x007F, 0x00FF},   {0x0100, 0x024F},
    {0x0250, 0x02FF},   {0x0300, 0x036F},    {0x0370, 0x03FF},   {0x0400, 0x052F},
    {0x0530, 0x058F},   {0x0590, 0x05FF},    {0x0600, 0x06FF},   {0x0700, 0x08FF},
    {0x0900, 0x09FF},   {0x0A00, 0x0DFF},    {0x0E00, 0x0FFF},   {0x1000, 0x10FF},
    {0x1100, 0x11FF},   {0x1680, 0x169F},    {0x1700, 0x17FF},   {0x1A00, 0x1AFF},
    {0x1B00, 0x1CFF},   {0x1D00, 0x1FFF},    {0x2000, 0x206F},   {0x2070, 0x20FF},
    {0x2100, 0x24FF},   {0x2C00, 0x2E7F},    {0x2E80, 0x303F},   {0x3040, 0x33FF},
    {0x3400, 0x4DBF},   {0x4E00, 0x9FFF},    {0xA000, 0xA6FF},   {0xA700, 0xABFF},
    {0xAC00, 0xD7FF},   {0xE000, 0xE0FF},    {0xF900, 0xFAFF},   {0xFB00, 0xFDFF},
    {0xFE00, 0xFE6F},   {0xFF00, 0xFFFF},    {0x10000, 0x1034F}, {0x10570, 0x107BF},
    {0x10D00, 0x10EFF}, {0x11000, 0x111FF},  {0x11900, 0x11AFF}, {0x16A40, 0x16FFF},
    {0x1D400, 0x1D7FF}, {0x1E000, 0x1E95F},  {0x1F000, 0x1FAFF}, {0x20000, 0x2A6DF},
    {0x2A700, 0x2CEAF}, {0x2F800, 0x2FA1F},  {0x30000, 0x3134F}, {0xE0000, 0xE01EF},
    {0xF0000, 0xF00FF}, {0x10FF00, 0x10FFFF}};

constexpr char32_t kSpaces[] = {' ',    '\t',   '\n',   '\r',   0x0B,   0x0C,   0x85,
                                0xA0,   0x1680, 0x2000, 0x2007, 0x200B, 0x2028, 0x2029,
                                0x202F, 0x205F, 0x3000, 0xFEFF, 0x180E};
constexpr const char* kWords[] = {"the",         "Hello",        "ab",    "cd",     "don't",
                                  "IT'S",        "we'll",        "123",   "4567",   "x",
                                  "Caf\xC3\xA9", "na\xC3\xAFve", "[CLS]", "[MASK]", "<|endoftext|>",
                                  "!!",          "...",          "--",    "$5",     "e-mail"};

// One adversarial text: 1 to 12 segments of words, whitespace runs, code points of a block (alone
// or inside a word), and now and then any code point at all.
std::string AdversarialText(std::mt19937_64& rng) {
  const auto pick = [&](std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
  };
  const auto code_point = [&]() -> char32_t {
    if (pick(10) == 0) {
      for (;;) {
        const auto c = static_cast<char32_t>(pick(0x110000));
        if (c < 0xD800 || c > 0xDFFF) return c;
      }
    }
    const Block& block = kBlocks[pick(std::size(kBlocks))];
    const auto c = static_cast<char32_t>(block.first + pick(block.last - block.first + 1));
    return c >= 0xD800 && c <= 0xDFFF ? 0xFFFD : c;
  };
  std::string text;
  const std::size_t segments = 1 + pick(12);
  for (std::size_t s = 0; s < segments; ++s) {
    switch (pick(5)) {
      case 0:
        text += kWords[pick(std::size(kWords))];
        break;
      case 1:
        for (std::size_t n = 1 + pick(4); n > 0; --n)
          AppendUtf8(kSpaces[pick(std::size(kSpaces))], text);
        break;
      case 2:
        for (std::size_t n = 1 + pick(3); n > 0; --n) AppendUtf8(code_point(), text);
        break;
      case 3:
        text += kWords[pick(std::size(kWords))];
        AppendUtf8(code_point(), text);
        text += kWords[pick(std::size(kWords))];
        break;
      default:
        text.push_back(' ');
        break;
    }
  }
  return text;
}

std::vector<std::string> FixtureTexts() {
  const char* source = std::getenv("FT_SOURCE_DIR");
  std::vector<std::string> texts;
  if (source == nullptr) return texts;
  std::ifstream in(std::filesystem::path(source) /
                   "tests/fixtures/tokenize/rust_differential.jsonl");
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) texts.push_back(nlohmann::json::parse(line).get<std::string>());
  }
  return texts;
}

class RustDifferentialTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string node = FT_NODE;
    if (node.empty() || !std::filesystem::exists(node)) FT_SKIP_PREREQUISITE_MISSING() << "node not found";
    if (!std::filesystem::exists(std::filesystem::path(FT_NODE_MODULES) /
                                 "tokenizers/package.json")) {
      FT_SKIP_PREREQUISITE_MISSING() << "npm tokenizers not installed in " << FT_NODE_MODULES
                   << " (scripts/install-test-deps.sh)";
    }
    if (!std::filesystem::is_directory(SharedData() / "tokenizers")) {
      FT_SKIP_PREREQUISITE_MISSING() << "../shared/data/tokenizers absent";
    }
    dir_ = std::filesystem::temp_directory_path() /
           ("ft_rust_differential_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    texts_ = FixtureTexts();
    ASSERT_FALSE(texts_.empty()) << "tests/fixtures/tokenize/rust_differential.jsonl unread";
    fixtures_ = texts_.size();
    std::mt19937_64 rng(EnvOr("FT_RUST_DIFF_SEED", kSeed));
    for (std::size_t i = EnvOr("FT_RUST_DIFF_TEXTS", kTexts); i > 0; --i) {
      texts_.push_back(AdversarialText(rng));
    }
    std::ofstream out(dir_ / "texts.jsonl");
    for (const std::string& text : texts_) out << nlohmann::json(text).dump() << "\n";
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // Encodes every text with the Rust library and with ours; one failure per tokenizer listing
  // (up to 20 of) the differing texts as fixture lines.
  void Check(const std::string& name, const std::string& tokenizer_path) {
    const std::string ids_path = (dir_ / "rust_ids.jsonl").string();
    const std::string command = std::string("'") + FT_NODE + "' '" + FT_JS_ENCODE_SCRIPT + "' '" +
                                FT_NODE_MODULES + "' '" + tokenizer_path + "' '" +
                                (dir_ / "texts.jsonl").string() + "' '" + ids_path +
                                "' --rust > /dev/null";
    ASSERT_EQ(std::system(command.c_str()), 0) << command;
    const auto tokenizer = Tokenizer::FromFile(tokenizer_path);
    std::ifstream in(ids_path);
    std::size_t i = 0;
    std::vector<std::size_t> differing;
    std::string report;
    for (std::string line; std::getline(in, line) && i < texts_.size(); ++i) {
      const auto rust = nlohmann::json::parse(line).get<std::vector<int64_t>>();
      const std::vector<int64_t> ours = tokenizer->Encode(texts_[i]);
      if (ours == rust) continue;
      differing.push_back(i);
      if (differing.size() <= 20) {
        report += nlohmann::json(texts_[i]).dump() +
                  "\n  ours: " + nlohmann::json(ours).dump().substr(0, 200) +
                  "\n  rust: " + line.substr(0, 200) + "\n";
      }
    }
    EXPECT_EQ(i, texts_.size()) << name << ": the Rust library's ids end early";
    std::printf("%s: %zu texts (%zu fixtures), %zu differ\n", name.c_str(), i, fixtures_,
                differing.size());
    EXPECT_TRUE(differing.empty()) << name << ": " << differing.size() << " of " << texts_.size()
                                   << " texts differ from the Rust library; add them to "
                                      "tests/fixtures/tokenize/rust_differential.jsonl:\n"
                                   << report;
  }

  void CheckJson(const std::string& name, const nlohmann::json& json) {
    const std::string path = (dir_ / (name + ".json")).string();
    std::ofstream(path) << json.dump();
    Check(name, path);
  }

  static nlohmann::json Load(const std::filesystem::path& path) {
    std::ifstream in(path);
    return nlohmann::json::parse(in);
  }

  std::filesystem::path dir_;
  std::vector<std::string> texts_;
  std::size_t fixtures_ = 0;
};

TEST_F(RustDifferentialTest, SharedDataTokenizers) {
  std::size_t files = 0;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(SharedData() / "tokenizers")) {
    if (entry.path().filename() != "tokenizer.json") continue;
    ++files;
    Check(entry.path().parent_path().filename().string(), entry.path().string());
  }
  EXPECT_GE(files, 2u);
}

TEST_F(RustDifferentialTest, Llama3Qwen2BloomStylePipelines) {
  for (const auto& [name, json] :
       Gpt2StylePipelines(Load(SharedData() / "tokenizers/gpt2/tokenizer.json"))) {
    CheckJson(name, json);
  }
}

TEST_F(RustDifferentialTest, CharacterClassPipelines) {
  const nlohmann::json bert = Load(SharedData() / "tokenizers/all-MiniLM-L6-v2/tokenizer.json");
  for (const auto& [name, json] : CharacterClassPipelines(bert)) CheckJson(name, json);
}

}  // namespace
}  // namespace ft::tokenize
