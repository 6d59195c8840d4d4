// `ftworker generate` on the output folder of a real causal_lm job (`ftworker --spec`,
// scratch:bloom-tiny, prompt/completion rows): it prints the completion that the job's own last
// validation sample showed for the same prompt, and refuses bad input by name with a non-zero
// exit.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/ftd_process.h"
#include "tests/support/run_command.h"
#include "tests/support/temp_dir.h"

namespace ft::testing {
namespace {

constexpr char kFirstValidationPrompt[] = "Question: what is 3 plus 4? Answer:";

std::string Jsonl(const std::vector<nlohmann::json>& rows) {
  std::string text;
  for (const nlohmann::json& row : rows) text += row.dump() + "\n";
  return text;
}

// The completions of the job's last "sample 1: PROMPT -> COMPLETION" log line.
std::string LastSampleOne(const std::string& events_file) {
  std::ifstream in(events_file);
  std::string line;
  std::string last;
  while (std::getline(in, line)) {
    const nlohmann::json event = nlohmann::json::parse(line);
    if (!event.contains("log")) continue;
    const std::string message = event["log"].value("message", "");
    if (message.rfind("sample 1: ", 0) == 0) last = message;
  }
  return last;
}

class GenerateCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    std::vector<nlohmann::json> train;
    for (int a = 1; a <= 6; ++a) {
      for (int b = 1; b <= 4; ++b) {
        train.push_back({{"prompt", "Question: what is " + std::to_string(a) + " plus " +
                                        std::to_string(b) + "? Answer:"},
                         {"completion", " " + std::to_string(a + b)}});
      }
    }
    const std::string train_file = dir_->Write("train.jsonl", Jsonl(train));
    const std::string validation_file = dir_->Write(
        "validation.jsonl",
        Jsonl({{{"prompt", kFirstValidationPrompt}, {"completion", " 7"}},
               {{"text", "a text row has no prompt and gives no sample"}},
               {{"prompt", "Question: what is 2 plus 2? Answer:"}, {"completion", " 4"}}}));
    const nlohmann::json spec = {
        {"model", "scratch:bloom-tiny"}, {"task", "causal_lm"},
        {"dataset", {{"train", train_file}, {"validation", validation_file}}},
        {"micro_batch_size", 8}, {"accumulation_steps", 1}, {"epochs", 3}, {"learning_rate", 3e-3},
        {"max_seq_length", 64}, {"seed", 3}};
    const std::string spec_file = dir_->Write("spec.json", spec.dump());
    job_ = new CommandResult(RunCommand({BinaryPath("ftworker"), "--spec", spec_file, "--out",
                                         dir_->Path("out"), "--threads", "1"}));
  }
  static void TearDownTestSuite() {
    delete job_;
    delete dir_;
  }
  static CommandResult Generate(std::vector<std::string> arguments) {
    arguments.insert(arguments.begin(), {BinaryPath("ftworker"), "generate"});
    return RunCommand(arguments);
  }

  static TempDir* dir_;
  static CommandResult* job_;
};

TempDir* GenerateCliTest::dir_ = nullptr;
CommandResult* GenerateCliTest::job_ = nullptr;

TEST_F(GenerateCliTest, PrintsTheCompletionTheJobsLastSampleShowed) {
  ASSERT_EQ(job_->exit_status, 0) << job_->output;
  const std::string sample = LastSampleOne(dir_->Path("out/events.jsonl"));
  ASSERT_FALSE(sample.empty()) << "no validation sample in the job's events";
  const std::string prefix = std::string("sample 1: ") + kFirstValidationPrompt + " -> ";
  ASSERT_EQ(sample.rfind(prefix, 0), 0u) << sample;
  std::string expected = sample.substr(prefix.size());
  const std::string eos_mark = " [EOS]";
  if (expected.size() >= eos_mark.size() &&
      expected.compare(expected.size() - eos_mark.size(), eos_mark.size(), eos_mark) == 0) {
    expected.resize(expected.size() - eos_mark.size());
  }

  const CommandResult generated = Generate({"--model", dir_->Path("out"), "--prompt",
                                            kFirstValidationPrompt, "--max-new-tokens", "32",
                                            "--threads", "1"});
  ASSERT_EQ(generated.exit_status, 0) << generated.output;
  ASSERT_FALSE(generated.output.empty());
  EXPECT_EQ(generated.output, expected + "\n") << "the job's sample: " << sample;
  RecordProperty("completion", expected);

  const CommandResult none = Generate(
      {"--model", dir_->Path("out"), "--prompt", kFirstValidationPrompt, "--max-new-tokens", "0"});
  EXPECT_EQ(none.exit_status, 0) << none.output;
  EXPECT_EQ(none.output, "\n");
}

TEST_F(GenerateCliTest, RefusesBadInputNamingTheFile) {
  ASSERT_EQ(job_->exit_status, 0) << job_->output;
  const auto expect_refusal = [](const CommandResult& result, const std::string& says) {
    EXPECT_NE(result.exit_status, 0) << result.output;
    EXPECT_NE(result.output.find(says), std::string::npos) << result.output;
  };
  expect_refusal(Generate({"--model", dir_->Path("missing"), "--prompt", "x"}),
                 dir_->Path("missing") + ": no such folder");

  // The same folder as an exported classifier's: same weights' names, other architecture.
  const std::string classifier = dir_->Path("classifier");
  std::filesystem::copy(dir_->Path("out"), classifier, std::filesystem::copy_options::recursive);
  std::ifstream in(classifier + "/config.json");
  nlohmann::json config = nlohmann::json::parse(in);
  config["architectures"] = {"BloomForSequenceClassification"};
  dir_->Write("classifier/config.json", config.dump());
  expect_refusal(Generate({"--model", classifier, "--prompt", "x"}),
                 classifier + "/config.json: architectures is [\"BloomForSequenceClassification\"]"
                              ", not a causal LM");

  std::filesystem::remove(dir_->Path("classifier/model.safetensors"));
  config["architectures"] = {"BloomForCausalLM"};
  dir_->Write("classifier/config.json", config.dump());
  expect_refusal(Generate({"--model", classifier, "--prompt", "x"}), "model.safetensors");

  expect_refusal(Generate({"--model", dir_->Path("out"), "--prompt", "x", "--chat"}),
                 dir_->Path("out") + ": --chat needs a chat template");
  expect_refusal(Generate({"--model", dir_->Path("out")}), "--prompt is required");
}

}  // namespace
}  // namespace ft::testing
