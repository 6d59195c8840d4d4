// SubmitJob's checks of JobSpec.tokenizer (common/spec/tokenizer_validation.h): a tokenizer.json
// file or a folder holding one, that parses, and whose largest id fits the model's vocab_size.
#include <gtest/gtest.h>

#include <string>

#include "absl/strings/match.h"
#include "common/spec/spec_defaults.h"
#include "common/spec/spec_validation.h"
#include "tests/support/word_level_tokenizer.h"
#include "tests/unit/server/server_test_util.h"

namespace ft::spec {
namespace {

using ft::testing::TempDir;
using ft::v1::JobSpec;

class TokenizerSpecTest : public ::testing::Test {
 protected:
  JobSpec Spec(const std::string& tokenizer) {
    JobSpec spec = ft::testing::ValidSpec(dir_.Write("train.csv", "text,label\nhi,a\nho,b\n"));
    spec.set_tokenizer(tokenizer);
    return spec;
  }

  absl::Status Validate(const JobSpec& spec) {
    return ValidateSpec(WithDefaults(spec, dir_.path().string()));
  }

  // A llama folder of `vocab_size` (at least 260: ft refuses smaller model folders on their own).
  std::string ModelFolder(int vocab_size) {
    dir_.Write("model/config.json",
               R"({"model_type": "llama", "vocab_size": )" + std::to_string(vocab_size) +
                   R"(, "hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2,
                   "intermediate_size": 32})");
    dir_.Write("model/model.safetensors", "");
    return (dir_.path() / "model").string();
  }

  static void ExpectInvalid(const absl::Status& status, const std::string& fragment) {
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_TRUE(absl::StrContains(status.message(), fragment)) << status;
  }

  TempDir dir_;
};

TEST_F(TokenizerSpecTest, AFileOrAFolderThatFitsPasses) {
  const std::string file =
      dir_.Write("words/tokenizer.json", ft::testing::WordLevelTokenizerJson());
  EXPECT_TRUE(Validate(Spec(file)).ok()) << Validate(Spec(file));
  EXPECT_TRUE(Validate(Spec("words")).ok()) << Validate(Spec("words"));  // relative, a folder
  JobSpec spec = Spec(file);
  spec.set_model(ModelFolder(260));
  EXPECT_TRUE(Validate(spec).ok()) << Validate(spec);
}

TEST_F(TokenizerSpecTest, MissingIsRefusedNamingThePath) {
  ExpectInvalid(Validate(Spec("nowhere.json")),
                "spec.tokenizer: " + (dir_.path() / "nowhere.json").string() + ": no such file");
  dir_.Write("empty/README", "no tokenizer here");
  ExpectInvalid(Validate(Spec("empty")), "spec.tokenizer: " +
                                             (dir_.path() / "empty/tokenizer.json").string() +
                                             ": no such file");
}

// Refused before a byte is read: SubmitJob must not block on a device, a pipe or a procfs file.
TEST_F(TokenizerSpecTest, WhatIsNotARegularFileOfSensibleSizeIsRefusedUnread) {
  ExpectInvalid(Validate(Spec("/dev/zero")), "spec.tokenizer: /dev/zero: not a regular file");
  ExpectInvalid(Validate(Spec("/proc/self/status")),
                "spec.tokenizer: /proc/self/status: 0 bytes");
  const std::string empty = dir_.Write("empty.json", "");
  ExpectInvalid(Validate(Spec(empty)), "spec.tokenizer: " + empty + ": 0 bytes");
}

TEST_F(TokenizerSpecTest, NotJsonIsRefusedNamingTheFile) {
  const std::string file = dir_.Write("bad/tokenizer.json", "{\"model\": ");
  const absl::Status status = Validate(Spec(file));
  ExpectInvalid(status, "spec.tokenizer: " + file + ":");
  const std::string unigram = dir_.Write("uni.json", R"({"model": {"type": "Unigram"}})");
  ExpectInvalid(Validate(Spec(unigram)),
                "spec.tokenizer: " + unigram + ": model.type \"Unigram\" is not supported");
}

TEST_F(TokenizerSpecTest, IdsBeyondTheModelsVocabSizeAreRefusedWithBothNumbers) {
  // A word-level tokenizer of 300 ids, w0..w299.
  std::string vocab;
  for (int i = 0; i < 300; ++i) {
    vocab += (i ? ", \"w" : "\"w") + std::to_string(i) + "\": " + std::to_string(i);
  }
  const std::string big = dir_.Write(
      "big.json", R"({"model": {"type": "WordLevel", "unk_token": "w0", "vocab": {)" + vocab +
                      "}}}");
  JobSpec spec = Spec(big);
  spec.set_model(ModelFolder(280));
  ExpectInvalid(Validate(spec), "spec.tokenizer: " + big +
                                    ": its ids go up to 299, beyond the vocab_size 280 of " +
                                    (dir_.path() / "model").string());
  // A scratch model: its catalog vocabulary (260 for the byte-level ids).
  ExpectInvalid(Validate(Spec(big)), "spec.tokenizer: " + big +
                                         ": its ids go up to 299, beyond the vocab_size 260 of "
                                         "scratch:bloom-tiny");
}

}  // namespace
}  // namespace ft::spec
