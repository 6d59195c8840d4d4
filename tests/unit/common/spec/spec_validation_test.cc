// spec::WithDefaults and spec::ValidateSpec: defaults, every bound at and just past its limit,
// dataset paths and formats, and messages that name every problem.
#include "common/spec/spec_validation.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "common/spec/spec_defaults.h"
#include "common/spec/spec_limits.h"
#include "tests/unit/server/server_test_util.h"

namespace ft::spec {
namespace {

using ft::testing::TempDir;
using ft::v1::JobSpec;

class SpecTest : public ::testing::Test {
 protected:
  void SetUp() override { csv_ = dir_.Write("train.csv", ft::testing::SmallCsv()); }

  // A valid spec with defaults applied.
  JobSpec Valid() { return WithDefaults(ft::testing::ValidSpec(csv_), dir_.path().string()); }

  absl::Status Validate(const std::function<void(JobSpec&)>& mutate) {
    JobSpec spec = Valid();
    mutate(spec);
    return ValidateSpec(spec);
  }

  TempDir dir_;
  std::string csv_;
};

// --- Defaults ---

TEST(SpecDefaultsTest, FillsDocumentedDefaults) {
  JobSpec spec;
  spec.mutable_dataset()->set_train("/data/train.csv");
  const JobSpec out = WithDefaults(spec, "/base");
  EXPECT_EQ(out.optimizer(), "adamw");
  EXPECT_EQ(out.precision(), "fp32");
  EXPECT_DOUBLE_EQ(out.learning_rate(), kDefaultScratchLearningRate);
  EXPECT_EQ(out.max_seq_length(), kDefaultMaxSeqLength);
  EXPECT_EQ(out.log_every_steps(), kDefaultLogEverySteps);
  EXPECT_EQ(out.dataset().text_column(), "text");
  EXPECT_EQ(out.dataset().label_column(), "label");
  EXPECT_DOUBLE_EQ(out.dataset().validation_fraction(), kDefaultValidationFraction);
  EXPECT_EQ(out.dataset().train(), "/data/train.csv");
  EXPECT_TRUE(out.dataset().validation().empty());
  EXPECT_TRUE(out.dataset().test().empty());
  // Fields without a default stay zero, for validation to reject.
  EXPECT_EQ(out.micro_batch_size(), 0u);
  EXPECT_EQ(out.accumulation_steps(), 0u);
  EXPECT_EQ(out.epochs(), 0u);
}

TEST(SpecDefaultsTest, KeepsExplicitValues) {
  JobSpec spec;
  spec.set_optimizer("sgd");
  spec.set_precision("fp32");
  spec.set_learning_rate(0.5);
  spec.set_max_seq_length(64);
  spec.set_log_every_steps(3);
  spec.mutable_dataset()->set_text_column("review");
  spec.mutable_dataset()->set_label_column("sentiment");
  spec.mutable_dataset()->set_validation_fraction(0.25);
  const JobSpec out = WithDefaults(spec, "/base");
  EXPECT_EQ(out.optimizer(), "sgd");
  EXPECT_DOUBLE_EQ(out.learning_rate(), 0.5);
  EXPECT_EQ(out.max_seq_length(), 64u);
  EXPECT_EQ(out.log_every_steps(), 3u);
  EXPECT_EQ(out.dataset().text_column(), "review");
  EXPECT_EQ(out.dataset().label_column(), "sentiment");
  EXPECT_DOUBLE_EQ(out.dataset().validation_fraction(), 0.25);
}

TEST(SpecDefaultsTest, NoValidationFractionWithAValidationFile) {
  JobSpec spec;
  spec.mutable_dataset()->set_train("train.csv");
  spec.mutable_dataset()->set_validation("val.csv");
  const JobSpec out = WithDefaults(spec, "/base");
  EXPECT_EQ(out.dataset().validation_fraction(), 0);
}

TEST(SpecDefaultsTest, MakesPathsAbsoluteAgainstBaseDir) {
  JobSpec spec;
  spec.mutable_dataset()->set_train("data/train.csv");
  spec.mutable_dataset()->set_validation("./data/../val.csv");
  spec.mutable_dataset()->set_test("/abs/./dir/../test.jsonl");
  const JobSpec out = WithDefaults(spec, "/srv/ftd");
  EXPECT_EQ(out.dataset().train(), "/srv/ftd/data/train.csv");
  EXPECT_EQ(out.dataset().validation(), "/srv/ftd/val.csv");
  EXPECT_EQ(out.dataset().test(), "/abs/test.jsonl");

  JobSpec parent;
  parent.mutable_dataset()->set_train("../shared/train.csv");
  EXPECT_EQ(WithDefaults(parent, "/srv/ftd").dataset().train(), "/srv/shared/train.csv");
  // A base with a trailing slash gives the same result.
  EXPECT_EQ(WithDefaults(spec, "/srv/ftd/").dataset().train(), "/srv/ftd/data/train.csv");
}

TEST(SpecDefaultsTest, IsIdempotent) {
  JobSpec spec;
  spec.mutable_dataset()->set_train("data/train.csv");
  const JobSpec once = WithDefaults(spec, "/base");
  const JobSpec twice = WithDefaults(once, "/elsewhere");
  EXPECT_EQ(once.SerializeAsString(), twice.SerializeAsString());
}

// --- Bounds ---

TEST_F(SpecTest, ValidSpecPasses) {
  EXPECT_TRUE(ValidateSpec(Valid()).ok()) << ValidateSpec(Valid());
}

struct UintBound {
  const char* field;
  std::function<void(JobSpec&, uint64_t)> set;
  uint64_t min;
  uint64_t max;
};

TEST_F(SpecTest, IntegerBoundsAtAndPastTheirLimits) {
  const std::vector<UintBound> bounds = {
      {"micro_batch_size", [](JobSpec& s, uint64_t v) { s.set_micro_batch_size(v); }, 1,
       kMaxMicroBatchSize},
      {"accumulation_steps", [](JobSpec& s, uint64_t v) { s.set_accumulation_steps(v); }, 1,
       kMaxAccumulationSteps},
      {"epochs", [](JobSpec& s, uint64_t v) { s.set_epochs(v); }, 1, kMaxEpochs},
      {"max_seq_length", [](JobSpec& s, uint64_t v) { s.set_max_seq_length(v); }, 1, kMaxSeqLength},
      {"log_every_steps", [](JobSpec& s, uint64_t v) { s.set_log_every_steps(v); }, 1,
       kMaxLogEverySteps},
      {"warmup_steps", [](JobSpec& s, uint64_t v) { s.set_warmup_steps(v); }, 0, kMaxWarmupSteps},
  };
  for (const UintBound& b : bounds) {
    SCOPED_TRACE(b.field);
    EXPECT_TRUE(Validate([&](JobSpec& s) { b.set(s, b.min); }).ok());
    EXPECT_TRUE(Validate([&](JobSpec& s) { b.set(s, b.max); }).ok());
    const absl::Status over = Validate([&](JobSpec& s) { b.set(s, b.max + 1); });
    EXPECT_EQ(over.code(), absl::StatusCode::kInvalidArgument) << over;
    EXPECT_TRUE(absl::StrContains(over.message(), std::string("spec.") + b.field)) << over;
    EXPECT_TRUE(absl::StrContains(over.message(), std::to_string(b.max + 1))) << over;
    if (b.min > 0) {
      const absl::Status under = Validate([&](JobSpec& s) { b.set(s, b.min - 1); });
      EXPECT_EQ(under.code(), absl::StatusCode::kInvalidArgument) << under;
      EXPECT_TRUE(absl::StrContains(under.message(), std::string("spec.") + b.field)) << under;
    }
  }
  // The documented limits themselves.
  EXPECT_EQ(kMaxMicroBatchSize, 4096u);
  EXPECT_EQ(kMaxAccumulationSteps, 65536u);
  EXPECT_EQ(kMaxEpochs, 1000u);
  const absl::Status message = Validate([](JobSpec& s) { s.set_micro_batch_size(4097); });
  EXPECT_EQ(message.message(), "spec.micro_batch_size: must be 1..4096, got 4097");
}

struct RealBound {
  const char* field;
  std::function<void(JobSpec&, double)> set;
  std::vector<double> ok;
  std::vector<double> bad;
};

TEST_F(SpecTest, RealBoundsAtAndPastTheirLimits) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<RealBound> bounds = {
      {"learning_rate",
       [](JobSpec& s, double v) { s.set_learning_rate(v); },
       {1e-300, 1e-3, kMaxLearningRate},
       {0.0, -1e-9, std::nextafter(kMaxLearningRate, 100.0), nan, inf, -inf}},
      {"weight_decay",
       [](JobSpec& s, double v) { s.set_weight_decay(v); },
       {0.0, 0.5, 1.0},
       {-1e-9, std::nextafter(1.0, 2.0), nan, inf}},
      {"max_grad_norm",
       [](JobSpec& s, double v) { s.set_max_grad_norm(v); },
       {0.0, 1.0, 1e6},
       {-1.0, 1e6 + 1, nan, inf}},
      {"dataset.validation_fraction",
       [](JobSpec& s, double v) { s.mutable_dataset()->set_validation_fraction(v); },
       {1e-9, 0.5, 0.9},
       {0.0, -0.1, std::nextafter(0.9, 1.0), 1.0, nan, inf}},
  };
  for (const RealBound& b : bounds) {
    for (double v : b.ok) {
      const absl::Status status = Validate([&](JobSpec& s) { b.set(s, v); });
      EXPECT_TRUE(status.ok()) << b.field << " = " << v << ": " << status;
    }
    for (double v : b.bad) {
      const absl::Status status = Validate([&](JobSpec& s) { b.set(s, v); });
      EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument)
          << b.field << " = " << v << ": " << status;
      EXPECT_TRUE(absl::StrContains(status.message(), std::string("spec.") + b.field))
          << b.field << " = " << v << ": " << status;
    }
  }
}

TEST_F(SpecTest, ZeroLearningRateGetsTheDefaultAndPasses) {
  JobSpec spec = ft::testing::ValidSpec(csv_);
  spec.set_learning_rate(0);
  EXPECT_TRUE(ValidateSpec(WithDefaults(spec, "/")).ok());
}

TEST_F(SpecTest, NamesAndChoices) {
  EXPECT_TRUE(Validate([](JobSpec& s) { s.set_optimizer("sgd"); }).ok());
  for (const char* model : {"scratch:bloom-tiny", "scratch:bloom-small", "scratch:bloom-560m",
                            "scratch:llama-1b"}) {
    EXPECT_TRUE(Validate([&](JobSpec& s) { s.set_model(model); }).ok()) << model;
  }
  const std::vector<std::pair<std::function<void(JobSpec&)>, std::string>> bad = {
      {[](JobSpec& s) { s.set_optimizer("AdamW"); }, "spec.optimizer"},
      {[](JobSpec& s) { s.set_optimizer(""); }, "spec.optimizer"},
      {[](JobSpec& s) { s.set_precision("fp8"); }, "spec.precision"},
      {[](JobSpec& s) { s.set_model("scratch:nope"); }, "scratch:nope"},
      {[](JobSpec& s) { s.set_model("scratch:"); }, "spec.model"},
      {[](JobSpec& s) { s.set_model(""); }, "spec.model: required"},
      {[](JobSpec& s) { s.set_display_name(std::string(201, 'x')); }, "spec.display_name"},
  };
  for (const auto& [mutate, field] : bad) {
    const absl::Status status = Validate(mutate);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_TRUE(absl::StrContains(status.message(), field)) << field << ": " << status;
  }
  EXPECT_TRUE(Validate([](JobSpec& s) { s.set_display_name(std::string(200, 'x')); }).ok());
  // The unknown-model message lists what is available.
  const absl::Status status = Validate([](JobSpec& s) { s.set_model("scratch:gpt2"); });
  EXPECT_TRUE(absl::StrContains(status.message(), "scratch:bloom-tiny")) << status;
}

// --- Model folders ---

constexpr char kConfigJson[] =
    R"({"model_type": "bloom", "vocab_size": 260, "hidden_size": 64, "n_layer": 2, "n_head": 4})";

TEST_F(SpecTest, ModelFolderWithConfigIsAccepted) {
  dir_.Write("bloom/config.json", kConfigJson);
  dir_.Write("bloom/model.safetensors", "");  // read by the worker, not by validation
  EXPECT_TRUE(Validate([&](JobSpec& s) { s.set_model(dir_.Path("bloom")); }).ok());
  // Relative to the base folder, like dataset paths.
  JobSpec spec = ft::testing::ValidSpec(csv_);
  spec.set_model("bloom");
  spec = WithDefaults(spec, dir_.path().string());
  EXPECT_EQ(spec.model(), dir_.Path("bloom"));
  EXPECT_TRUE(ValidateSpec(spec).ok());
  spec.set_model("scratch:bloom-tiny");
  EXPECT_EQ(WithDefaults(spec, "/elsewhere").model(), "scratch:bloom-tiny");
}

TEST_F(SpecTest, MissingModelFolderPartsAreNotFound) {
  dir_.Write("no_config/model.safetensors", "");
  dir_.Write("no_weights/config.json", kConfigJson);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {dir_.Path("absent"), "no such folder"},
      {"gpt2", "no such folder"},  // a Hub name is not downloaded
      {dir_.Path("no_config"), "config.json: no such file"},
      {dir_.Path("no_weights"), "no model weights (model.safetensors, "},
  };
  for (const auto& [model, expected] : cases) {
    const absl::Status status = Validate([&](JobSpec& s) { s.set_model(model); });
    EXPECT_EQ(status.code(), absl::StatusCode::kNotFound) << model << ": " << status;
    EXPECT_TRUE(absl::StrContains(status.message(), "spec.model: ")) << status;
    EXPECT_TRUE(absl::StrContains(status.message(), model)) << status;
    EXPECT_TRUE(absl::StrContains(status.message(), expected)) << status;
  }
}

TEST_F(SpecTest, BadModelFolderConfigIsInvalid) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{not json", "not valid JSON"},
      {R"({"model_type": "t5", "vocab_size": 260, "hidden_size": 64, "n_layer": 2,
           "n_head": 4})",
       "'t5' is not supported"},
      {R"({"model_type": "llama", "vocab_size": 260, "hidden_size": 64, "num_hidden_layers": 2,
           "num_attention_heads": 4, "intermediate_size": 64,
           "rope_parameters": {"rope_type": "yarn"}})",
       "rope_parameters.rope_type"},
      {R"({"model_type": "bloom", "vocab_size": 100, "hidden_size": 64, "n_layer": 2,
           "n_head": 4})",
       "vocab_size 100"},
  };
  int index = 0;
  for (const auto& [config, expected] : cases) {
    const std::string folder = "model" + std::to_string(index++);
    dir_.Write(folder + "/config.json", config);
    dir_.Write(folder + "/model.safetensors", "");
    const absl::Status status = Validate([&](JobSpec& s) { s.set_model(dir_.Path(folder)); });
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
    EXPECT_TRUE(absl::StrContains(status.message(), "spec.model: ")) << status;
    EXPECT_TRUE(absl::StrContains(status.message(), "config.json")) << status;
    EXPECT_TRUE(absl::StrContains(status.message(), expected)) << status;
  }
  // A file where the folder belongs.
  const absl::Status status = Validate([&](JobSpec& s) { s.set_model(csv_); });
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "not a folder")) << status;
}

TEST_F(SpecTest, HubModelIdsAreLeftForTheWorker) {
  for (const char* id : {"bigscience/bloom-560m", "org/name@v1.0"}) {
    JobSpec spec = ft::testing::ValidSpec(csv_);
    spec.set_model(id);
    spec = WithDefaults(spec, dir_.path().string());
    EXPECT_EQ(spec.model(), id) << "a Hub id is not made a path";
    EXPECT_TRUE(ValidateSpec(spec).ok()) << id;
  }
  // A local folder of that name wins over the Hub.
  dir_.Write("acme/model/config.json", kConfigJson);
  dir_.Write("acme/model/model.safetensors", "");
  JobSpec spec = ft::testing::ValidSpec(csv_);
  spec.set_model("acme/model");
  EXPECT_EQ(WithDefaults(spec, dir_.path().string()).model(), dir_.Path("acme/model"));
}

TEST_F(SpecTest, NamedDatasets) {
  JobSpec spec = Valid();
  spec.mutable_dataset()->clear_train();
  spec.mutable_dataset()->set_name("imdb");
  EXPECT_TRUE(ValidateSpec(spec).ok()) << ValidateSpec(spec);
  spec.mutable_dataset()->set_name("imdbb");
  absl::Status status = ValidateSpec(spec);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "spec.dataset.name: unknown dataset 'imdbb'"))
      << status;
  spec.mutable_dataset()->set_name("imdb");
  spec.mutable_dataset()->set_test(csv_);
  status = ValidateSpec(spec);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "spec.dataset.test: must be empty")) << status;
}

// --- Dataset ---

TEST_F(SpecTest, MissingFilesAreNotFound) {
  for (const char* field : {"train", "validation", "test"}) {
    JobSpec spec = ft::testing::ValidSpec(csv_);
    auto* dataset = spec.mutable_dataset();
    const std::string missing = dir_.Path(std::string("missing-") + field + ".csv");
    if (std::string(field) == "train") dataset->set_train(missing);
    if (std::string(field) == "validation") dataset->set_validation(missing);
    if (std::string(field) == "test") dataset->set_test(missing);
    const absl::Status status = ValidateSpec(WithDefaults(spec, "/"));
    EXPECT_EQ(status.code(), absl::StatusCode::kNotFound) << status;
    EXPECT_TRUE(absl::StrContains(status.message(), std::string("spec.dataset.") + field))
        << status;
    EXPECT_TRUE(absl::StrContains(status.message(), missing)) << status;
  }
}

TEST_F(SpecTest, ValidationAndTestFilesAreChecked) {
  const std::string val = dir_.Write("val.csv", ft::testing::SmallCsv());
  const std::string test = dir_.Write("test.tsv", "text\tlabel\nfine\t1\n");
  EXPECT_TRUE(Validate([&](JobSpec& s) {
                s.mutable_dataset()->set_validation(val);
                s.mutable_dataset()->set_test(test);
              }).ok());
  const std::string wrong = dir_.Write("wrong.csv", "sentence,label\nx,1\n");
  const absl::Status status = Validate([&](JobSpec& s) { s.mutable_dataset()->set_test(wrong); });
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "spec.dataset.test")) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "'text'")) << status;
}

TEST_F(SpecTest, ColumnsMustExist) {
  const std::string custom = dir_.Write("custom.csv", "review,sentiment,extra\nnice,pos,1\n");
  EXPECT_TRUE(Validate([&](JobSpec& s) {
                s.mutable_dataset()->set_train(custom);
                s.mutable_dataset()->set_text_column("review");
                s.mutable_dataset()->set_label_column("sentiment");
              }).ok());
  const absl::Status both = Validate([&](JobSpec& s) { s.mutable_dataset()->set_train(custom); });
  EXPECT_EQ(both.code(), absl::StatusCode::kInvalidArgument) << both;
  EXPECT_TRUE(absl::StrContains(both.message(), "no column 'text'")) << both;
  EXPECT_TRUE(absl::StrContains(both.message(), "no column 'label'")) << both;
  EXPECT_TRUE(absl::StrContains(both.message(), "review, sentiment, extra")) << both;
}

TEST_F(SpecTest, FormatsAndInference) {
  const std::string jsonl = dir_.Write("train.jsonl", "{\"text\": \"hi\", \"label\": 1}\n");
  const std::string tsv = dir_.Write("train.tsv", "text\tlabel\nhi\t1\n");
  const std::string txt = dir_.Write("train.txt", "text,label\nhi,1\n");  // inferred as csv
  for (const std::string& path : {jsonl, tsv, txt}) {
    const absl::Status status = Validate([&](JobSpec& s) { s.mutable_dataset()->set_train(path); });
    EXPECT_TRUE(status.ok()) << path << ": " << status;
  }
  EXPECT_TRUE(Validate([&](JobSpec& s) {
                s.mutable_dataset()->set_train(tsv);
                s.mutable_dataset()->set_format("tsv");
              }).ok());
  // A TSV read as CSV has a single column "text\tlabel".
  EXPECT_EQ(Validate([&](JobSpec& s) {
              s.mutable_dataset()->set_train(tsv);
              s.mutable_dataset()->set_format("csv");
            }).code(),
            absl::StatusCode::kInvalidArgument);

  for (const char* format : {"parquet", "CSV", "json"}) {
    const absl::Status status =
        Validate([&](JobSpec& s) { s.mutable_dataset()->set_format(format); });
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << format << ": " << status;
    EXPECT_TRUE(absl::StrContains(status.message(), "spec.dataset.format")) << status;
  }
}

TEST_F(SpecTest, UnreadableDataIsInvalidArgument) {
  const std::string empty = dir_.Write("empty.csv", "");
  const std::string broken = dir_.Write("broken.jsonl", "{not json\n");
  for (const std::string& path : {empty, broken}) {
    const absl::Status status = Validate([&](JobSpec& s) { s.mutable_dataset()->set_train(path); });
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << path << ": " << status;
    EXPECT_TRUE(absl::StrContains(status.message(), "spec.dataset.train")) << status;
  }
}

TEST_F(SpecTest, DirectoryInsteadOfFileIsInvalidArgument) {
  const std::string folder = dir_.MakeFolder("a_folder");
  for (const char* format : {"csv", "tsv", "jsonl"}) {
    const absl::Status status = Validate([&](JobSpec& s) {
      s.mutable_dataset()->set_train(folder);
      s.mutable_dataset()->set_format(format);
    });
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << format << ": " << status;
    EXPECT_TRUE(absl::StrContains(status.message(), "spec.dataset.train")) << status;
    EXPECT_TRUE(absl::StrContains(status.message(), "directory")) << status;
  }
  // Inferred as aclimdb, but without label folders.
  const absl::Status status = Validate([&](JobSpec& s) { s.mutable_dataset()->set_train(folder); });
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
}

TEST_F(SpecTest, AclImdbFolderIsAccepted) {
  dir_.Write("imdb/train/pos/0_9.txt", "a lovely film");
  dir_.Write("imdb/train/pos/1_8.txt", "great");
  dir_.Write("imdb/train/neg/2_1.txt", "awful");
  const std::string folder = dir_.Path("imdb/train");
  EXPECT_TRUE(Validate([&](JobSpec& s) { s.mutable_dataset()->set_train(folder); }).ok());
  EXPECT_TRUE(Validate([&](JobSpec& s) {
                s.mutable_dataset()->set_train(folder);
                s.mutable_dataset()->set_format("aclimdb");
              }).ok());
  // Relative, through WithDefaults.
  JobSpec spec = ft::testing::ValidSpec("imdb/train");
  const absl::Status relative = ValidateSpec(WithDefaults(spec, dir_.path().string()));
  EXPECT_TRUE(relative.ok()) << relative;
  // A file is not an aclimdb folder.
  const absl::Status file =
      Validate([&](JobSpec& s) { s.mutable_dataset()->set_format("aclimdb"); });
  EXPECT_EQ(file.code(), absl::StatusCode::kInvalidArgument) << file;
  // Label folders without .txt files are not enough.
  dir_.Write("empty_imdb/pos/readme.md", "x");
  const absl::Status empty =
      Validate([&](JobSpec& s) { s.mutable_dataset()->set_train(dir_.Path("empty_imdb")); });
  EXPECT_EQ(empty.code(), absl::StatusCode::kInvalidArgument) << empty;
}

// --- Several problems at once ---

TEST_F(SpecTest, MultipleProblemsInOneMessage) {
  const absl::Status status = Validate([](JobSpec& s) {
    s.set_micro_batch_size(0);
    s.set_epochs(5000);
    s.set_optimizer("lion");
    s.set_learning_rate(-1);
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  for (const char* field :
       {"spec.micro_batch_size", "spec.epochs", "spec.optimizer", "spec.learning_rate"}) {
    EXPECT_TRUE(absl::StrContains(status.message(), field)) << field << ": " << status;
  }
  std::vector<std::string> parts = absl::StrSplit(status.message(), "; ");
  EXPECT_EQ(parts.size(), 4u) << status;
}

TEST_F(SpecTest, FirstProblemDecidesTheCode) {
  // A bad field before the missing file: INVALID_ARGUMENT, and both are named.
  const absl::Status status = Validate([&](JobSpec& s) {
    s.set_epochs(0);
    s.mutable_dataset()->set_train(dir_.Path("nope.csv"));
  });
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "spec.epochs")) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "spec.dataset.train")) << status;
  // Only the missing file: NOT_FOUND.
  EXPECT_EQ(
      Validate([&](JobSpec& s) { s.mutable_dataset()->set_train(dir_.Path("nope.csv")); }).code(),
      absl::StatusCode::kNotFound);
}

// Found by scripts/fuzz.sh (spec_validation): a model folder whose config.json is a directory
// made the read throw std::ios_failure out of ValidateSpec (gRPC answered UNIMPLEMENTED with no
// message); and a path with a NUL byte names another file to the system than to the checks.
TEST_F(SpecTest, ConfigJsonThatIsAFolderIsInvalidNamingIt) {
  const std::string folder = dir_.MakeFolder("model");
  dir_.MakeFolder("model/config.json");
  dir_.Write("model/model.safetensors", "x");
  const absl::Status status = Validate([&](JobSpec& s) { s.set_model(folder); });
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), folder + "/config.json: not a regular file"))
      << status;
}

// Found by scripts/fuzz.sh (tokenizer, then data_reader): a number past double's range in a
// model folder's config.json or in a JSONL dataset made nlohmann throw out_of_range, which
// escaped ValidateSpec (SubmitJob answered without naming the file) instead of INVALID_ARGUMENT.
TEST_F(SpecTest, NumberOverflowInConfigOrDatasetIsInvalidNamingTheFile) {
  const std::string folder = dir_.MakeFolder("overflow_model");
  dir_.Write("overflow_model/config.json", R"({"model_type": "bloom", "vocab_size": 1e999})");
  dir_.Write("overflow_model/model.safetensors", "x");
  absl::Status status = Validate([&](JobSpec& s) { s.set_model(folder); });
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "spec.model: " + folder + "/config.json: "))
      << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "number overflow")) << status;

  const std::string jsonl = dir_.Write("overflow.jsonl", "{\"text\": \"a\", \"label\": 1e999}\n");
  status = Validate([&](JobSpec& s) { s.mutable_dataset()->set_train(jsonl); });
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "spec.dataset.train (" + jsonl + "): ")) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), ":1: invalid JSON")) << status;
}

TEST_F(SpecTest, PathsWithANulByteAreRefused) {
  const std::string nul_path = std::string("/\0/etc/passwd", 13);
  for (const auto& [field, mutate] :
       std::vector<std::pair<std::string, std::function<void(JobSpec&)>>>{
           {"spec.model", [&](JobSpec& s) { s.set_model(nul_path); }},
           {"spec.dataset.train", [&](JobSpec& s) { s.mutable_dataset()->set_train(nul_path); }},
           {"spec.dataset.validation",
            [&](JobSpec& s) { s.mutable_dataset()->set_validation(nul_path); }},
           {"spec.dataset.test", [&](JobSpec& s) { s.mutable_dataset()->set_test(nul_path); }}}) {
    const absl::Status status = Validate(mutate);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << field << ": " << status;
    EXPECT_TRUE(absl::StrContains(status.message(), field + ": contains a NUL byte")) << status;
  }
}

}  // namespace
}  // namespace ft::spec
