// SubmitJob's checks of JobSpec.lora (common/spec/lora_validation.h): defaults, each bad field
// refused by name, unknown target modules refused with the family's valid names.
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

class LoraSpecTest : public ::testing::Test {
 protected:
  JobSpec Spec() {
    JobSpec spec = ft::testing::ValidSpec(dir_.Write("train.csv", "text,label\nhi,a\nho,b\n"));
    spec.mutable_lora();
    return spec;
  }

  JobSpec Defaults(const JobSpec& spec) { return WithDefaults(spec, dir_.path().string()); }
  absl::Status Validate(const JobSpec& spec) { return ValidateSpec(Defaults(spec)); }

  std::string LlamaFolder() {
    dir_.Write("llama/config.json",
               R"({"model_type": "llama", "vocab_size": 300, "hidden_size": 16,
                   "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 32})");
    dir_.Write("llama/model.safetensors", "");
    return (dir_.path() / "llama").string();
  }

  static void ExpectInvalid(const absl::Status& status, const std::string& fragment) {
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_TRUE(absl::StrContains(status.message(), fragment)) << status;
  }

  TempDir dir_;
};

TEST_F(LoraSpecTest, EmptyLoraGetsPeftDefaultsAndPasses) {
  const JobSpec spec = Defaults(Spec());
  EXPECT_EQ(spec.lora().r(), 8u);
  EXPECT_EQ(spec.lora().alpha(), 8.0);
  EXPECT_EQ(spec.lora().base_precision(), "fp32");
  EXPECT_TRUE(ValidateSpec(spec).ok()) << ValidateSpec(spec);
  EXPECT_FALSE(Defaults(ft::testing::ValidSpec("x.csv")).has_lora());
}

TEST_F(LoraSpecTest, UnknownTargetIsRefusedListingTheFamilysNames) {
  JobSpec spec = Spec();
  spec.mutable_lora()->add_target_modules("q_proj");
  ExpectInvalid(Validate(spec),
                "spec.lora.target_modules: unknown module 'q_proj' for a bloom model (expected "
                "one of query_key_value, dense, dense_h_to_4h, dense_4h_to_h)");
  spec.set_model(LlamaFolder());
  EXPECT_TRUE(Validate(spec).ok()) << Validate(spec);
  spec.mutable_lora()->add_target_modules("c_attn");
  ExpectInvalid(Validate(spec), "unknown module 'c_attn' for a llama model");
  // A scratch model of another family is checked against its own family's names.
  spec.set_model("scratch:llama-1b");
  ExpectInvalid(Validate(spec), "unknown module 'c_attn' for a llama model");
}

TEST_F(LoraSpecTest, OutOfRangeFieldsAreRefusedByName) {
  JobSpec spec = Spec();
  spec.mutable_lora()->set_r(2000);
  ExpectInvalid(Validate(spec), "spec.lora.r: must be 1..1024, got 2000");
  spec = Spec();
  spec.mutable_lora()->set_alpha(-1);
  ExpectInvalid(Validate(spec), "spec.lora.alpha: must be > 0");
  spec = Spec();
  spec.mutable_lora()->set_dropout(1);
  ExpectInvalid(Validate(spec), "spec.lora.dropout: must be in [0, 1)");
  spec = Spec();
  spec.mutable_lora()->set_base_precision("fp16");
  ExpectInvalid(Validate(spec), "spec.lora.base_precision: 'fp16' is not supported");
}

TEST_F(LoraSpecTest, DropoutGoesWithActivationCheckpointing) {
  JobSpec spec = Spec();
  spec.mutable_lora()->set_dropout(0.1);
  spec.set_activation_checkpointing(true);
  EXPECT_TRUE(Validate(spec).ok()) << Validate(spec);
}

TEST_F(LoraSpecTest, AdapterMustBeAPeftFolderAndBringsItsShape) {
  JobSpec spec = Spec();
  spec.mutable_lora()->set_adapter("no_such_adapter");
  ExpectInvalid(Validate(spec), "spec.lora.adapter: ");
  ExpectInvalid(Validate(spec), "no_such_adapter is not a PEFT adapter folder");
  dir_.Write("adapter/adapter_config.json", R"({"peft_type": "LORA"})");
  spec.mutable_lora()->set_adapter("adapter");
  EXPECT_TRUE(Validate(spec).ok()) << Validate(spec);
  spec.mutable_lora()->set_r(4);
  ExpectInvalid(Validate(spec), "spec.lora.adapter: the adapter folder's adapter_config.json");
}

}  // namespace
}  // namespace ft::spec
