// A causal-LM job's examples (worker/data/lm_data.h): which tokens are targets for each row
// shape, the EOS rule, truncation and the rows it empties, all with the byte tokenizer of a
// scratch model (id = byte + 4, EOS 2), so that every expected id is written out here.
#include "worker/data/lm_data.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/data/dataset.h"
#include "tests/support/temp_dir.h"

namespace ft::train {
namespace {

constexpr int64_t kEos = 2;
constexpr int64_t kByteOffset = 4;

std::vector<int64_t> Bytes(const std::string& text) {
  std::vector<int64_t> ids;
  for (unsigned char c : text) ids.push_back(c + kByteOffset);
  return ids;
}

std::vector<int64_t> Concat(std::vector<int64_t> a, const std::vector<int64_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// A mask of `ones` targets after `zeros` non-targets.
std::vector<int64_t> Mask(std::size_t zeros, std::size_t ones) {
  std::vector<int64_t> mask(zeros, 0);
  mask.insert(mask.end(), ones, 1);
  return mask;
}

class LmDataTest : public ::testing::Test {
 protected:
  TrainOptions Options(const std::string& rows) {
    TrainOptions options;
    options.model = "scratch:bloom-tiny";
    options.task = "causal_lm";
    options.train_path = dir_.Write("train.jsonl", rows);
    options.validation_fraction = 0;
    options.max_seq_length = 64;
    return options;
  }

  ft::testing::TempDir dir_;
};

TEST_F(LmDataTest, CompletionTokensAndEosAreTheTargets) {
  const JobData data = LoadLmJobData(
      Options("{\"prompt\": \"Q: hi\\nA:\", \"completion\": \" yo\"}\n"), kEos);
  ASSERT_EQ(data.train.size(), 1u);
  EXPECT_EQ(std::vector<int64_t>(data.train.input_ids[0]),
            Concat(Bytes("Q: hi\nA: yo"), {kEos}));
  // The prompt's 8 bytes are not targets; " yo" and the EOS are.
  EXPECT_EQ(std::vector<int64_t>(data.train.target_mask[0]), Mask(8, 4));
  EXPECT_TRUE(data.validation.empty());
}

TEST_F(LmDataTest, TrainOnPromptMakesEveryTokenButTheFirstATarget) {
  TrainOptions options = Options("{\"prompt\": \"ab\", \"completion\": \"c\"}\n");
  options.train_on_prompt = true;
  const JobData data = LoadLmJobData(options, kEos);
  EXPECT_EQ(std::vector<int64_t>(data.train.target_mask[0]), Mask(1, 3));
}

TEST_F(LmDataTest, TextRowsTrainOnEveryTokenAndGetOneEos) {
  const JobData data = LoadLmJobData(Options("{\"text\": \"abc\"}\n"), kEos);
  EXPECT_EQ(std::vector<int64_t>(data.train.input_ids[0]), Concat(Bytes("abc"), {kEos}));
  EXPECT_EQ(std::vector<int64_t>(data.train.target_mask[0]), Mask(1, 3));
  // Without an EOS id nothing is appended, and the log says so.
  const JobData without = LoadLmJobData(Options("{\"text\": \"abc\"}\n"), std::nullopt);
  EXPECT_EQ(std::vector<int64_t>(without.train.input_ids[0]), Bytes("abc"));
  ASSERT_FALSE(without.notes.empty());
  EXPECT_NE(without.notes.back().find("eos_token_id"), std::string::npos);
}

TEST_F(LmDataTest, TruncationKeepsTheHeadAndSkipsRowsWithoutTargets) {
  TrainOptions options = Options(
      "{\"prompt\": \"0123456789\", \"completion\": \"abc\"}\n"  // cut inside the completion
      "{\"prompt\": \"0123456789abcdef\", \"completion\": \"x\"}\n");  // the prompt fills it
  options.max_seq_length = 12;
  const JobData data = LoadLmJobData(options, kEos);
  ASSERT_EQ(data.train.size(), 1u);
  EXPECT_EQ(std::vector<int64_t>(data.train.input_ids[0]), Bytes("0123456789ab"));
  EXPECT_EQ(std::vector<int64_t>(data.train.target_mask[0]), Mask(10, 2));
  ASSERT_EQ(data.notes.size(), 1u);
  EXPECT_NE(data.notes[0].find("skipped 1 of 2 rows"), std::string::npos) << data.notes[0];

  options = Options("{\"prompt\": \"0123456789abcdef\", \"completion\": \"x\"}\n");
  options.max_seq_length = 12;
  EXPECT_THROW(LoadLmJobData(options, kEos), data::DataError);
}

TEST_F(LmDataTest, ChatRowsTrainOnTheRenderersAssistantSpans) {
  TrainOptions options = Options(
      "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", "
      "\"content\": \"yo\"}, {\"role\": \"user\", \"content\": \"?\"}, {\"role\": "
      "\"assistant\", \"content\": \"!\"}]}\n");
  // A stand-in for the template engine with a fixed layout: <role>content|
  options.chat_renderer.render = [](const std::vector<data::ChatTurn>& turns) {
    RenderedChat chat;
    for (const data::ChatTurn& turn : turns) {
      chat.text += "<" + turn.role + ">";
      const std::size_t begin = chat.text.size();
      chat.text += turn.content + "|";
      if (turn.role == "assistant") chat.assistant_spans.push_back({begin, chat.text.size()});
    }
    return chat;
  };
  const JobData data = LoadLmJobData(options, kEos);
  const std::string text = "<user>hi|<assistant>yo|<user>?|<assistant>!|";
  EXPECT_EQ(std::vector<int64_t>(data.train.input_ids[0]), Bytes(text));  // no extra EOS
  std::vector<int64_t> expected(text.size(), 0);
  for (std::size_t t = 20; t < 23; ++t) expected[t] = 1;  // "yo|"
  for (std::size_t t = 42; t < 44; ++t) expected[t] = 1;  // "!|"
  EXPECT_EQ(std::vector<int64_t>(data.train.target_mask[0]), expected);
}

TEST_F(LmDataTest, ChatRowsWithoutATemplateFailNamingFileAndLine) {
  const TrainOptions options = Options(
      "{\"text\": \"a\"}\n{\"messages\": [{\"role\": \"assistant\", \"content\": \"x\"}]}\n");
  try {
    LoadLmJobData(options, kEos);
    FAIL() << "no DataError";
  } catch (const data::DataError& error) {
    EXPECT_EQ(error.line(), 2u);
    EXPECT_NE(std::string(error.what()).find("chat template"), std::string::npos);
  }
}

}  // namespace
}  // namespace ft::train
