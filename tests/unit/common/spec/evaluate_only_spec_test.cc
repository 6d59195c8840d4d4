// SubmitJob's checks of JobSpec.evaluate_only (common/spec/evaluate_only_validation.h): something
// trained to evaluate (a model folder, or a LoRA adapter folder on its base), and no field that
// only training uses.
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

class EvaluateOnlySpecTest : public ::testing::Test {
 protected:
  JobSpec Spec() {
    JobSpec spec = ft::testing::ValidSpec(dir_.Write("train.csv", "text,label\nhi,a\nho,b\n"));
    spec.set_evaluate_only(true);
    return spec;
  }

  absl::Status Validate(const JobSpec& spec) {
    return ValidateSpec(WithDefaults(spec, dir_.path().string()));
  }

  std::string ModelFolder() {
    dir_.Write("model/config.json",
               R"({"model_type": "llama", "vocab_size": 300, "hidden_size": 16,
                   "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 32})");
    dir_.Write("model/model.safetensors", "");
    return (dir_.path() / "model").string();
  }

  std::string AdapterFolder() {
    dir_.Write("adapter/adapter_config.json", R"({"peft_type": "LORA"})");
    return (dir_.path() / "adapter").string();
  }

  static void ExpectInvalid(const absl::Status& status, const std::string& fragment) {
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_TRUE(absl::StrContains(status.message(), fragment)) << status;
  }

  TempDir dir_;
};

TEST_F(EvaluateOnlySpecTest, ModelFolderOrAdapterPasses) {
  JobSpec spec = Spec();
  spec.set_model(ModelFolder());
  EXPECT_TRUE(Validate(spec).ok()) << Validate(spec);
  spec = Spec();
  spec.mutable_lora()->set_adapter(AdapterFolder());
  EXPECT_TRUE(Validate(spec).ok()) << Validate(spec);
}

TEST_F(EvaluateOnlySpecTest, NothingTrainedToEvaluateIsRefused) {
  ExpectInvalid(Validate(Spec()),
                "spec.evaluate_only: scratch:bloom-tiny has random weights; evaluate a model "
                "folder, or set spec.lora.adapter");
  JobSpec spec = Spec();
  spec.set_model(ModelFolder());
  spec.mutable_lora();
  ExpectInvalid(Validate(spec), "spec.evaluate_only: with spec.lora, spec.lora.adapter must");
}

TEST_F(EvaluateOnlySpecTest, TrainingOnlyFieldsAreRefusedByName) {
  JobSpec spec = Spec();
  spec.mutable_lora()->set_adapter(AdapterFolder());
  spec.mutable_lora()->set_merge(true);
  ExpectInvalid(Validate(spec), "spec.lora.merge: not with evaluate_only");
  spec.mutable_lora()->set_merge(false);
  spec.set_keep_best_model(true);
  ExpectInvalid(Validate(spec), "spec.keep_best_model: not with evaluate_only");
  spec.set_keep_best_model(false);
  spec.set_early_stopping_patience(2);
  ExpectInvalid(Validate(spec), "spec.early_stopping_patience: not with evaluate_only");
}

}  // namespace
}  // namespace ft::spec
