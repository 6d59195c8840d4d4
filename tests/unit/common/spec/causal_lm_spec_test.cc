// SubmitJob's checks of a causal_lm job (common/spec/causal_lm_validation.h): each bad input is
// refused naming the field and, for data, the file and line; a good job passes.
#include <gtest/gtest.h>

#include <string>

#include "absl/strings/match.h"
#include "common/spec/spec_defaults.h"
#include "common/spec/spec_validation.h"
#include "tests/unit/server/server_test_util.h"

namespace ft::spec {
namespace {

using ft::testing::TempDir;
using ft::v1::JobSpec;

constexpr char kPromptRows[] =
    "{\"prompt\": \"Question: where?\\nType:\", \"completion\": \" location\"}\n"
    "{\"text\": \"a plain text row\"}\n";
constexpr char kChatRows[] =
    "{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}, {\"role\": \"assistant\", "
    "\"content\": \"hello\"}]}\n";
// ChatML, as Qwen2.5 and OpenHermes write it.
constexpr char kChatMl[] =
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + "
    "message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\\n' }}{% endif %}";

class CausalLmSpecTest : public ::testing::Test {
 protected:
  JobSpec Spec(const std::string& rows, const std::string& model = "scratch:bloom-tiny") {
    JobSpec spec = ft::testing::ValidSpec(dir_.Write("train.jsonl", rows));
    spec.set_task("causal_lm");
    spec.set_model(model);
    return spec;
  }

  absl::Status Validate(const JobSpec& spec) {
    return ValidateSpec(WithDefaults(spec, dir_.path().string()));
  }

  // A decoder folder (a tiny GPT-2 config; no weights are read at SubmitJob).
  std::string Gpt2Folder(const std::string& name, const std::string& tokenizer_config) {
    dir_.Write(name + "/config.json",
               "{\"model_type\": \"gpt2\", \"vocab_size\": 300, \"n_embd\": 16, \"n_layer\": 1, "
               "\"n_head\": 2, \"eos_token_id\": 2}");
    dir_.Write(name + "/model.safetensors", "");
    if (!tokenizer_config.empty()) dir_.Write(name + "/tokenizer_config.json", tokenizer_config);
    return (dir_.path() / name).string();
  }

  static void ExpectInvalid(const absl::Status& status, const std::string& fragment) {
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_TRUE(absl::StrContains(status.message(), fragment)) << status;
  }

  TempDir dir_;
};

TEST_F(CausalLmSpecTest, PromptCompletionAndTextRowsPass) {
  EXPECT_TRUE(Validate(Spec(kPromptRows)).ok()) << Validate(Spec(kPromptRows));
}

TEST_F(CausalLmSpecTest, UnknownTaskAndTrainOnPromptOrPackingForClassifiersAreRefused) {
  JobSpec spec = Spec(kPromptRows);
  spec.set_task("seq2seq");
  ExpectInvalid(Validate(spec), "spec.task: unknown task 'seq2seq'");
  spec = ft::testing::ValidSpec(dir_.Write("train.csv", ft::testing::SmallCsv()));
  spec.set_train_on_prompt(true);
  ExpectInvalid(Validate(spec), "spec.train_on_prompt: only for task causal_lm");
  spec.set_train_on_prompt(false);
  spec.set_packing(true);
  ExpectInvalid(Validate(spec), "spec.packing: only for task causal_lm");
  spec = Spec(kPromptRows);
  spec.set_packing(true);
  EXPECT_TRUE(Validate(spec).ok()) << Validate(spec);
}

TEST_F(CausalLmSpecTest, BadRowsAreRefusedWithFileAndLine) {
  const JobSpec spec = Spec(
      "{\"text\": \"fine\"}\n{\"messages\": [{\"role\": \"user\", \"content\": \"no answer\"}]}\n");
  const absl::Status status = Validate(spec);
  ExpectInvalid(status, "spec.dataset.train");
  EXPECT_TRUE(absl::StrContains(status.message(), "train.jsonl:2")) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "no assistant turn")) << status;
  ExpectInvalid(Validate(Spec("{\"prompt\": \"p\", \"completion\": 5}\n")),
                "\"completion\" must be a string");
}

TEST_F(CausalLmSpecTest, ChatRowsNeedAChatTemplate) {
  ExpectInvalid(Validate(Spec(kChatRows)), "has no chat template");
  ExpectInvalid(Validate(Spec(kChatRows, Gpt2Folder("plain", "{}"))), "has no chat template");
  const std::string chatml =
      Gpt2Folder("chatml", "{\"chat_template\": \"" + std::string(kChatMl) + "\"}");
  // kChatMl is written inside a JSON string: its quotes and newlines are escaped already.
  EXPECT_TRUE(Validate(Spec(kChatRows, chatml)).ok()) << Validate(Spec(kChatRows, chatml));
}

TEST_F(CausalLmSpecTest, UnsupportedTemplateConstructIsRefusedByLine) {
  const std::string folder = Gpt2Folder(
      "wrapped", "{\"chat_template\": \"{% for m in messages %}\\n{{ m['content'] | wordwrap "
                 "}}{% endfor %}\"}");
  const absl::Status status = Validate(Spec(kChatRows, folder));
  ExpectInvalid(status, "spec.model");
  EXPECT_TRUE(absl::StrContains(status.message(), "line 2")) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "wordwrap")) << status;
}

TEST_F(CausalLmSpecTest, TemplateThatRaisesIsReportedWithTheRowsLine) {
  const std::string folder = Gpt2Folder(
      "strict", "{\"chat_template\": \"{% if messages[0]['role'] != 'system' %}{{ "
                "raise_exception('a system turn must come first') }}{% endif %}{% for m in "
                "messages %}{{ m['content'] }}{% endfor %}\"}");
  const absl::Status status = Validate(Spec(kChatRows, folder));
  ExpectInvalid(status, "train.jsonl:1");
  EXPECT_TRUE(absl::StrContains(status.message(), "a system turn must come first")) << status;
}

TEST_F(CausalLmSpecTest, EncoderModelsAreRefused) {
  dir_.Write("bert/config.json",
             "{\"model_type\": \"bert\", \"vocab_size\": 300, \"hidden_size\": 16, "
             "\"num_hidden_layers\": 1, \"num_attention_heads\": 2, \"intermediate_size\": 32}");
  dir_.Write("bert/model.safetensors", "");
  ExpectInvalid(Validate(Spec(kPromptRows, (dir_.path() / "bert").string())),
                "causal_lm needs a decoder model");
}

// A config copied from another model can name an EOS outside its own vocabulary (a tiny test
// model with GPT-2's 50256); appended to every example, it would fail the first training step.
TEST_F(CausalLmSpecTest, EosOutsideTheVocabularyIsRefusedNamingBothFields) {
  for (const char* eos : {"50256", "[300, 2]", "-1"}) {
    dir_.Write("wide_eos/config.json",
               std::string("{\"model_type\": \"gpt2\", \"vocab_size\": 300, \"n_embd\": 16, "
                           "\"n_layer\": 1, \"n_head\": 2, \"eos_token_id\": ") +
                   eos + "}");
    dir_.Write("wide_eos/model.safetensors", "");
    const absl::Status status = Validate(Spec(kPromptRows, (dir_.path() / "wide_eos").string()));
    ExpectInvalid(status, "wide_eos/config.json: eos_token_id ");
    EXPECT_TRUE(absl::StrContains(status.message(), "vocab_size 300")) << status;
  }
  EXPECT_TRUE(Validate(Spec(kPromptRows, Gpt2Folder("fine", ""))).ok());
}

TEST_F(CausalLmSpecTest, NonJsonlFormatIsRefused) {
  JobSpec spec = Spec(kPromptRows);
  spec.mutable_dataset()->set_format("csv");
  ExpectInvalid(Validate(spec), "spec.dataset.format: causal_lm reads JSON Lines");
}

}  // namespace
}  // namespace ft::spec
