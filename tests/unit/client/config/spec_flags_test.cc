#include "client/lib/config/spec_flags.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace ft::client {
namespace {

SpecFlags MinimalFlags() {
  SpecFlags flags;
  flags.model = "scratch:bloom-tiny";
  flags.train = "data/train.csv";
  return flags;
}

TEST(BuildJobSpecTest, ModelFolderIsMadeAbsolute) {
  SpecFlags f = MinimalFlags();
  f.model = "./models/bloom";
  absl::StatusOr<ft::v1::JobSpec> spec = BuildJobSpec({}, f, "/home/me");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->model(), "/home/me/models/bloom");
  // org/name without such a local folder is a Hugging Face Hub id: sent as is.
  f.model = "bigscience/bloom-560m";
  spec = BuildJobSpec({}, f, "/home/me");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->model(), "bigscience/bloom-560m");
  f.model = "scratch:bloom-small";
  spec = BuildJobSpec({}, f, "/home/me");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->model(), "scratch:bloom-small");
}

TEST(BuildJobSpecTest, NamedDatasetReplacesTrain) {
  SpecFlags f = MinimalFlags();
  f.train.reset();
  EXPECT_FALSE(BuildJobSpec({}, f, "/home/me").ok());
  f.dataset_name = "imdb";
  absl::StatusOr<ft::v1::JobSpec> spec = BuildJobSpec({}, f, "/home/me");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->dataset().name(), "imdb");
  EXPECT_EQ(spec->dataset().train(), "");
}

TEST(BuildJobSpecTest, MapsEveryFlag) {
  SpecFlags f = MinimalFlags();
  f.validation = "/abs/val.csv";
  f.test = "test.csv";
  f.format = "csv";
  f.text_column = "sms";
  f.label_column = "spam";
  f.validation_fraction = 0.25;
  f.micro_batch_size = 16;
  f.accumulation_steps = 4;
  f.epochs = 3;
  f.learning_rate = 5e-4;
  f.optimizer = "sgd";
  f.max_seq_length = 128;
  f.seed = 42;
  f.log_every_steps = 5;
  f.max_steps = 100;
  f.eval_every_steps = 20;
  f.max_eval_examples = 500;
  f.weight_decay = 0.01;
  f.max_grad_norm = 1.0;
  f.warmup_steps = 10;
  f.display_name = "baseline";
  absl::StatusOr<ft::v1::JobSpec> spec = BuildJobSpec({}, f, "/home/me");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->model(), "scratch:bloom-tiny");
  EXPECT_EQ(spec->dataset().train(), "/home/me/data/train.csv");
  EXPECT_EQ(spec->dataset().validation(), "/abs/val.csv");
  EXPECT_EQ(spec->dataset().test(), "/home/me/test.csv");
  EXPECT_EQ(spec->dataset().format(), "csv");
  EXPECT_EQ(spec->dataset().text_column(), "sms");
  EXPECT_EQ(spec->dataset().label_column(), "spam");
  EXPECT_DOUBLE_EQ(spec->dataset().validation_fraction(), 0.25);
  EXPECT_EQ(spec->micro_batch_size(), 16u);
  EXPECT_EQ(spec->accumulation_steps(), 4u);
  EXPECT_EQ(spec->epochs(), 3u);
  EXPECT_DOUBLE_EQ(spec->learning_rate(), 5e-4);
  EXPECT_EQ(spec->optimizer(), "sgd");
  EXPECT_EQ(spec->max_seq_length(), 128u);
  EXPECT_EQ(spec->seed(), 42u);
  EXPECT_EQ(spec->log_every_steps(), 5u);
  EXPECT_EQ(spec->max_steps(), 100u);
  EXPECT_EQ(spec->eval_every_steps(), 20u);
  EXPECT_EQ(spec->max_eval_examples(), 500u);
  EXPECT_DOUBLE_EQ(spec->weight_decay(), 0.01);
  EXPECT_DOUBLE_EQ(spec->max_grad_norm(), 1.0);
  EXPECT_EQ(spec->warmup_steps(), 10u);
  EXPECT_EQ(spec->display_name(), "baseline");
}

TEST(BuildJobSpecTest, MapsTheTrainingKnobFlags) {
  SpecFlags f = MinimalFlags();
  f.lr_scheduler = "cosine";
  f.label_smoothing = 0.1;
  f.model_dropout = "off";
  f.early_stopping_patience = 3;
  f.early_stopping_metric = "macro_f1";
  f.keep_best_model = true;
  absl::StatusOr<ft::v1::JobSpec> spec = BuildJobSpec({}, f, "/w");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->lr_scheduler(), "cosine");
  EXPECT_DOUBLE_EQ(spec->label_smoothing(), 0.1);
  EXPECT_EQ(spec->model_dropout(), "off");
  EXPECT_EQ(spec->early_stopping_patience(), 3u);
  EXPECT_EQ(spec->early_stopping_metric(), "macro_f1");
  EXPECT_TRUE(spec->keep_best_model());

  // Unset flags leave them to ftd's defaults; a flag overrides the -f file, also to false.
  absl::StatusOr<ft::v1::JobSpec> plain = BuildJobSpec({}, MinimalFlags(), "/w");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->lr_scheduler(), "");
  EXPECT_EQ(plain->early_stopping_metric(), "");
  EXPECT_FALSE(plain->keep_best_model());
  SpecFlags off = MinimalFlags();
  off.keep_best_model = false;
  absl::StatusOr<ft::v1::JobSpec> from_file = BuildJobSpec(*spec, off, "/w");
  ASSERT_TRUE(from_file.ok());
  EXPECT_FALSE(from_file->keep_best_model());
  EXPECT_EQ(from_file->lr_scheduler(), "cosine");
}

TEST(BuildJobSpecTest, FillsFtctlDefaultsAndLeavesTheRestToFtd) {
  absl::StatusOr<ft::v1::JobSpec> spec = BuildJobSpec({}, MinimalFlags(), "/w");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->micro_batch_size(), kDefaultMicroBatchSize);
  EXPECT_EQ(spec->accumulation_steps(), kDefaultAccumulationSteps);
  EXPECT_EQ(spec->epochs(), kDefaultEpochs);
  EXPECT_EQ(spec->learning_rate(), 0);
  EXPECT_EQ(spec->optimizer(), "");
  EXPECT_EQ(spec->max_seq_length(), 0u);
  EXPECT_EQ(spec->log_every_steps(), 0u);
  EXPECT_EQ(spec->dataset().validation(), "");
  EXPECT_EQ(spec->dataset().test(), "");
  EXPECT_EQ(spec->dataset().text_column(), "");
}

// With an effective batch ftctl leaves accumulation_steps at 0 for ftd to derive, and with
// auto_micro_batch also the micro-batch size (then only a limit).
TEST(BuildJobSpecTest, EffectiveBatchAndAutoMicroBatchKeepTheirFieldsUnset) {
  SpecFlags f = MinimalFlags();
  f.effective_batch_size = 32;
  f.group_by_length = true;
  absl::StatusOr<ft::v1::JobSpec> spec = BuildJobSpec({}, f, "/w");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->effective_batch_size(), 32u);
  EXPECT_EQ(spec->micro_batch_size(), kDefaultMicroBatchSize);
  EXPECT_EQ(spec->accumulation_steps(), 0u);
  EXPECT_TRUE(spec->group_by_length());
  EXPECT_FALSE(spec->auto_micro_batch());

  f.auto_micro_batch = true;
  spec = BuildJobSpec({}, f, "/w");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_TRUE(spec->auto_micro_batch());
  EXPECT_EQ(spec->micro_batch_size(), 0u);
  EXPECT_EQ(spec->accumulation_steps(), 0u);
}

TEST(BuildJobSpecTest, TaskFlagsReachTheSpec) {
  SpecFlags f = MinimalFlags();
  absl::StatusOr<ft::v1::JobSpec> spec = BuildJobSpec({}, f, "/w");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->task(), "");  // ftd's default, sequence_classification
  EXPECT_FALSE(spec->train_on_prompt());
  EXPECT_FALSE(spec->packing());
  f.task = "causal_lm";
  f.train_on_prompt = true;
  f.packing = true;
  spec = BuildJobSpec({}, f, "/w");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->task(), "causal_lm");
  EXPECT_TRUE(spec->train_on_prompt());
  EXPECT_TRUE(spec->packing());
}

TEST(BuildJobSpecTest, NotifyFlagsAddToTheSpecFilesUrls) {
  SpecFlags f = MinimalFlags();
  f.notify = {"https://a.example/1", "https://b.example/2"};
  ft::v1::JobSpec base;
  base.add_notify("https://from.file/0");
  absl::StatusOr<ft::v1::JobSpec> spec = BuildJobSpec(base, f, "/w");
  ASSERT_TRUE(spec.ok()) << spec.status();
  ASSERT_EQ(spec->notify_size(), 3);
  EXPECT_EQ(spec->notify(0), "https://from.file/0");
  EXPECT_EQ(spec->notify(2), "https://b.example/2");
}

TEST(BuildJobSpecTest, LoraFlagsTurnLoraOnAndReachTheSpec) {
  SpecFlags f = MinimalFlags();
  absl::StatusOr<ft::v1::JobSpec> spec = BuildJobSpec({}, f, "/w");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_FALSE(spec->has_lora());
  f.lora = true;
  spec = BuildJobSpec({}, f, "/w");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_TRUE(spec->has_lora());
  EXPECT_EQ(spec->lora().r(), 0u);  // ftd's default, 8
  f = MinimalFlags();
  f.lora_r = 16;
  f.lora_alpha = 32;
  f.lora_dropout = 0.05;
  f.lora_target_modules = std::vector<std::string>{"q_proj", "v_proj"};
  f.lora_use_rslora = true;
  f.lora_base_precision = "bf16";
  f.lora_merge = true;
  f.lora_adapter = "adapters/a";
  spec = BuildJobSpec({}, f, "/w");
  ASSERT_TRUE(spec.ok()) << spec.status();
  const ft::v1::LoraSpec& lora = spec->lora();
  EXPECT_EQ(lora.r(), 16u);
  EXPECT_EQ(lora.alpha(), 32.0);
  EXPECT_EQ(lora.dropout(), 0.05);
  ASSERT_EQ(lora.target_modules_size(), 2);
  EXPECT_EQ(lora.target_modules(1), "v_proj");
  EXPECT_TRUE(lora.use_rslora());
  EXPECT_EQ(lora.base_precision(), "bf16");
  EXPECT_TRUE(lora.merge());
  EXPECT_EQ(lora.adapter(), "/w/adapters/a");
}

TEST(BuildJobSpecTest, EvaluateOnlyFlagReachesTheSpec) {
  SpecFlags f = MinimalFlags();
  absl::StatusOr<ft::v1::JobSpec> spec = BuildJobSpec({}, f, "/w");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_FALSE(spec->evaluate_only());
  f.evaluate_only = true;
  spec = BuildJobSpec({}, f, "/w");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_TRUE(spec->evaluate_only());
}

TEST(BuildJobSpecTest, ExplicitZeroIsSentForFtdToReject) {
  SpecFlags f = MinimalFlags();
  f.micro_batch_size = 0;
  f.epochs = 0;
  absl::StatusOr<ft::v1::JobSpec> spec = BuildJobSpec({}, f, "/w");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->micro_batch_size(), 0u);
  EXPECT_EQ(spec->epochs(), 0u);
  EXPECT_EQ(spec->accumulation_steps(), kDefaultAccumulationSteps);
}

TEST(BuildJobSpecTest, RelativePathsBecomeAbsoluteAndNormal) {
  SpecFlags f = MinimalFlags();
  f.train = "./a/../b/train.csv";
  f.validation = "../val.jsonl";
  f.test = "aclImdb/test/";
  f.tokenizer = "../tokenizers/words";
  absl::StatusOr<ft::v1::JobSpec> spec = BuildJobSpec({}, f, "/work/run");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->tokenizer(), "/work/tokenizers/words");
  EXPECT_EQ(spec->dataset().train(), "/work/run/b/train.csv");
  EXPECT_EQ(spec->dataset().validation(), "/work/val.jsonl");
  EXPECT_EQ(spec->dataset().test(), "/work/run/aclImdb/test/");
}

TEST(AbsolutePathTest, KeepsEmptyAndAbsolute) {
  EXPECT_EQ(AbsolutePath("", "/x"), "");
  EXPECT_EQ(AbsolutePath("/data/./t.csv", "/x"), "/data/t.csv");
  EXPECT_EQ(AbsolutePath("t.csv", "/x/y"), "/x/y/t.csv");
}

TEST(BuildJobSpecTest, RequiresModelAndTrain) {
  SpecFlags no_model = MinimalFlags();
  no_model.model.reset();
  absl::StatusOr<ft::v1::JobSpec> spec = BuildJobSpec({}, no_model, "/w");
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(spec.status().message().find("--model"), absl::string_view::npos);

  SpecFlags no_train = MinimalFlags();
  no_train.train.reset();
  spec = BuildJobSpec({}, no_train, "/w");
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(spec.status().message().find("--train"), absl::string_view::npos);
}

TEST(ParseJobSpecJsonTest, AcceptsBothNameStylesAndFlagsOverride) {
  absl::StatusOr<ft::v1::JobSpec> base = ParseJobSpecJson(
      R"({"model": "scratch:bloom-tiny",
          "dataset": {"train": "sms.csv", "validationFraction": 0.2, "text_column": "body"},
          "micro_batch_size": 4, "accumulationSteps": 2, "epochs": 3, "learning_rate": 0.01,
          "displayName": "from-file"})",
      "job.json");
  ASSERT_TRUE(base.ok()) << base.status();
  SpecFlags f;
  f.epochs = 5;
  f.display_name = "override";
  absl::StatusOr<ft::v1::JobSpec> spec = BuildJobSpec(*base, f, "/w");
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->model(), "scratch:bloom-tiny");
  EXPECT_EQ(spec->dataset().train(), "/w/sms.csv");
  EXPECT_DOUBLE_EQ(spec->dataset().validation_fraction(), 0.2);
  EXPECT_EQ(spec->dataset().text_column(), "body");
  EXPECT_EQ(spec->micro_batch_size(), 4u);  // from the file, not ftctl's default
  EXPECT_EQ(spec->accumulation_steps(), 2u);
  EXPECT_EQ(spec->epochs(), 5u);  // the flag wins
  EXPECT_DOUBLE_EQ(spec->learning_rate(), 0.01);
  EXPECT_EQ(spec->display_name(), "override");
}

TEST(ParseJobSpecJsonTest, RejectsUnknownFieldsAndBadJsonNamingTheFile) {
  for (const char* json : {R"({"model": "m", "bogus": 1})", R"({"epochs": "many"})", "{"}) {
    absl::StatusOr<ft::v1::JobSpec> spec = ParseJobSpecJson(json, "job.json");
    EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument) << json;
    EXPECT_EQ(spec.status().message().rfind("job.json: ", 0), 0u) << spec.status();
  }
}

TEST(LoadJobSpecFileTest, ReadsAFileAndReportsAMissingOne) {
  const std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("ftctl_spec_" + NewRequestId() + ".json");
  std::ofstream(path) << R"({"model": "scratch:bloom-tiny", "epochs": 2})";
  absl::StatusOr<ft::v1::JobSpec> spec = LoadJobSpecFile(path.string());
  std::filesystem::remove(path);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_EQ(spec->epochs(), 2u);

  spec = LoadJobSpecFile(path.string());
  EXPECT_EQ(spec.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(spec.status().message().find(path.string()), absl::string_view::npos);
}

TEST(NewRequestIdTest, LooksLikeAUuidAndDiffers) {
  const std::regex pattern("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const std::string id = NewRequestId();
    EXPECT_TRUE(std::regex_match(id, pattern)) << id;
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 100u);
}

}  // namespace
}  // namespace ft::client
