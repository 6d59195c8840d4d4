// Loading a Hugging Face BLOOM checkpoint folder into the native model: the folder the trainer
// exports loads back bit for bit (directly and as a job's `model`), names without
// "transformer.", F16/BF16 converted as LibTorch converts them, a fresh seeded head when the
// checkpoint has none or one for another label count, and clear errors for broken checkpoints.
#include "worker/models/model_loader.h"

#include <gtest/gtest.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/models/model_folder.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/worker/csv_fixture.h"
#include "tests/unit/worker/torch_test_util.h"
#include "worker/io/safetensors_reader.h"
#include "worker/io/safetensors_writer.h"
#include "worker/models/bloom_model.h"
#include "worker/output/model_export.h"
#include "worker/train/train_job.h"

namespace ft {
namespace {

namespace fs = std::filesystem;
using models::BloomForSequenceClassification;

class LoaderTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = temp_.path(); }

  // A tiny model whose every parameter is random (not the 0/1 of a fresh LayerNorm or bias).
  static BloomForSequenceClassification RandomModel(int64_t num_labels, uint64_t seed) {
    torch::manual_seed(seed);
    BloomForSequenceClassification model(testing::TinyConfig(), num_labels);
    torch::NoGradGuard no_grad;
    for (auto& parameter : model->parameters()) parameter.add_(torch::randn_like(parameter) * 0.1);
    return model;
  }

  // Builds a model from `folder` as a job would, with seed 7 for anything fresh.
  BloomForSequenceClassification Load(const std::string& folder, int64_t num_labels) {
    torch::manual_seed(7);
    const models::TrainableModel classifier = models::BuildModel(
        models::ReadModelFolderConfig(folder), num_labels,
        [this](const std::string& level, const std::string& message) {
          log_ += level + ": " + message + "\n";
        });
    auto bloom = std::dynamic_pointer_cast<models::BloomForSequenceClassificationImpl>(
        classifier.ptr());
    EXPECT_NE(bloom, nullptr);
    return BloomForSequenceClassification(bloom);
  }

  // Writes model.safetensors by hand: each parameter under `rename(name)` (skipped when empty)
  // in `dtype`, plus config.json for the tiny configuration.
  void WriteFolder(BloomForSequenceClassification& model, const std::string& folder,
                   torch::ScalarType dtype,
                   const std::function<std::string(const std::string&)>& rename) {
    fs::create_directories(folder);
    const std::string dtype_name = dtype == torch::kFloat32   ? "F32"
                                   : dtype == torch::kFloat16 ? "F16"
                                                              : "BF16";
    nlohmann::ordered_json header;
    std::string data;
    for (const auto& item : model->named_parameters()) {
      const std::string name = rename(item.key());
      if (name.empty()) continue;
      const torch::Tensor tensor = item.value().detach().to(dtype).contiguous();
      const std::size_t bytes = tensor.numel() * tensor.element_size();
      header[name] = {{"dtype", dtype_name},
                      {"shape", tensor.sizes().vec()},
                      {"data_offsets", {data.size(), data.size() + bytes}}};
      data.append(static_cast<const char*>(tensor.data_ptr()), bytes);
    }
    const std::string text = header.dump();
    std::string file(8, '\0');
    for (int i = 0; i < 8; ++i) file[i] = static_cast<char>(uint64_t{text.size()} >> (8 * i));
    testing::WriteFile(fs::path(folder) / "model.safetensors", file + text + data);
    testing::WriteFile(fs::path(folder) / "config.json",
                       R"({"model_type": "bloom", "vocab_size": 260, "n_embed": 128,
                           "n_layer": 2, "num_attention_heads": 4})");
  }

  std::string LoadError(const std::string& folder, int64_t num_labels) {
    try {
      Load(folder, num_labels);
    } catch (const std::exception& error) {
      return error.what();
    }
    return "";
  }

  static void ExpectSameParameters(BloomForSequenceClassification& a,
                                   BloomForSequenceClassification& b, bool with_head = true) {
    const auto b_parameters = b->named_parameters();
    for (const auto& item : a->named_parameters()) {
      if (!with_head && item.key() == "score.weight") continue;
      EXPECT_TRUE(torch::equal(item.value(), b_parameters[item.key()])) << item.key();
    }
  }

  testing::TempDir temp_;  // a fresh folder per test, whatever else runs beside it
  fs::path dir_;
  std::string log_;
};

TEST_F(LoaderTest, ExportedFolderLoadsBackBitForBit) {
  auto model = RandomModel(3, 1);
  const std::string folder = (dir_ / "exported").string();
  train::WriteModelFolder(*model, {"a", "b", "c"}, 32, folder);

  const models::BloomConfig config = models::ReadModelFolderConfig(folder).bloom;
  EXPECT_EQ(config.hidden_size, 128);
  EXPECT_EQ(config.n_layer, 2);
  EXPECT_EQ(config.n_head, 4);
  EXPECT_EQ(config.vocab_size, 260);
  auto loaded = Load(folder, 3);
  ExpectSameParameters(model, loaded);
  EXPECT_NE(log_.find("loaded 30 tensors"), std::string::npos) << log_;
  EXPECT_EQ(log_.find("fresh"), std::string::npos) << log_;

  torch::NoGradGuard no_grad;
  const auto ids = torch::randint(4, 260, {2, 9}, torch::kInt64);
  const auto mask = torch::ones({2, 9}, torch::kInt64);
  EXPECT_TRUE(torch::equal(model->forward(ids, mask), loaded->forward(ids, mask)));
}

TEST_F(LoaderTest, NamesWithoutPrefixAndHalfPrecisionAsLibTorchConverts) {
  auto model = RandomModel(2, 2);
  const auto strip = [](const std::string& name) {
    return name.rfind("transformer.", 0) == 0 ? name.substr(12) : name;
  };
  for (torch::ScalarType dtype : {torch::kFloat16, torch::kBFloat16}) {
    const std::string folder = (dir_ / (dtype == torch::kFloat16 ? "f16" : "bf16")).string();
    WriteFolder(model, folder, dtype, strip);
    auto loaded = Load(folder, 2);
    const auto loaded_parameters = loaded->named_parameters();
    for (const auto& item : model->named_parameters()) {
      const torch::Tensor expected = item.value().detach().to(dtype).to(torch::kFloat32);
      EXPECT_TRUE(torch::equal(loaded_parameters[item.key()], expected)) << item.key();
    }
  }
  // Every half-precision bit pattern converts as LibTorch's own conversion does.
  const torch::Tensor bits = torch::arange(0, 65536, torch::kInt32).to(torch::kInt16);
  const torch::Tensor expected = bits.view(torch::kFloat16).to(torch::kFloat32);
  const int16_t* bit_data = bits.data_ptr<int16_t>();
  const float* expected_data = expected.data_ptr<float>();
  for (int64_t i = 0; i < 65536; ++i) {
    const float ours = io::HalfToFloat(static_cast<uint16_t>(bit_data[i]));
    if (std::isnan(expected_data[i])) {
      ASSERT_TRUE(std::isnan(ours)) << i;
    } else {
      ASSERT_EQ(std::memcmp(&ours, &expected_data[i], sizeof(float)), 0) << i;
    }
  }
}

TEST_F(LoaderTest, FreshSeededHeadWhenMissingOrForOtherLabels) {
  auto model = RandomModel(2, 3);
  torch::manual_seed(7);
  BloomForSequenceClassification fresh(testing::TinyConfig(), 3);

  const std::string headless = (dir_ / "headless").string();
  WriteFolder(model, headless, torch::kFloat32,
              [](const std::string& name) { return name == "score.weight" ? "" : name; });
  auto loaded = Load(headless, 3);
  ExpectSameParameters(model, loaded, /*with_head=*/false);
  EXPECT_TRUE(torch::equal(loaded->named_parameters()["score.weight"],
                           fresh->named_parameters()["score.weight"]));
  EXPECT_NE(log_.find("has no score.weight: initialised a fresh classification head for 3"),
            std::string::npos)
      << log_;

  log_.clear();
  const std::string two_labels = (dir_ / "two").string();
  train::WriteModelFolder(*model, {"neg", "pos"}, 32, two_labels);
  loaded = Load(two_labels, 3);
  ExpectSameParameters(model, loaded, /*with_head=*/false);
  EXPECT_TRUE(torch::equal(loaded->named_parameters()["score.weight"],
                           fresh->named_parameters()["score.weight"]));
  EXPECT_NE(log_.find("score.weight has 2 labels, the dataset 3"), std::string::npos) << log_;
  EXPECT_NE(log_.find("loaded 29 tensors"), std::string::npos) << log_;
  EXPECT_EQ(log_.find("not used"), std::string::npos) << log_;  // the line above says why
}

TEST_F(LoaderTest, ExtraTensorsAreSkippedAndCounted) {
  auto model = RandomModel(2, 4);
  const std::string folder = (dir_ / "causal").string();
  train::WriteModelFolder(*model, {"neg", "pos"}, 32, folder);
  // A causal LM's folder: the same body plus lm_head.weight.
  auto file = io::SafetensorsFile::Open(folder + "/model.safetensors");
  std::vector<std::vector<float>> copies;
  std::vector<io::Float32TensorView> views;
  for (const io::SafetensorsEntry& entry : file->entries()) {
    copies.emplace_back(entry.ElementCount());
    file->ReadAsFloat32(entry, copies.back().data());
    views.push_back({entry.name, entry.shape, copies.back().data()});
  }
  const std::vector<float> lm_head(260 * 128, 0.5f);
  views.push_back({"lm_head.weight", {260, 128}, lm_head.data()});
  file.reset();
  io::WriteSafetensors(folder + "/model.safetensors", views);
  auto loaded = Load(folder, 2);
  ExpectSameParameters(model, loaded);
  EXPECT_NE(log_.find("1 tensors of the checkpoint are not used (lm_head.weight)"),
            std::string::npos)
      << log_;
}

TEST_F(LoaderTest, BrokenCheckpointsAreRefusedNamingFileAndTensor) {
  auto model = RandomModel(2, 5);
  const std::string missing = (dir_ / "missing").string();
  WriteFolder(model, missing, torch::kFloat32, [](const std::string& name) {
    return name == "transformer.h.1.mlp.dense_4h_to_h.bias" ? "" : name;
  });
  std::string error = LoadError(missing, 2);
  EXPECT_NE(
      error.find("missing/model.safetensors: no tensor 'transformer.h.1.mlp.dense_4h_to_h.bias'"),
      std::string::npos)
      << error;

  // config.json says hidden 128; a checkpoint of another width does not fit.
  torch::manual_seed(1);
  models::BloomConfig narrow = testing::TinyConfig();
  narrow.hidden_size = 64;
  BloomForSequenceClassification small(narrow, 2);
  const std::string wrong_shape = (dir_ / "shape").string();
  WriteFolder(small, wrong_shape, torch::kFloat32, [](const std::string& name) { return name; });
  error = LoadError(wrong_shape, 2);
  EXPECT_NE(error.find("has shape [260, 64], config.json implies [260, 128]"), std::string::npos)
      << error;

  const std::string truncated = (dir_ / "truncated").string();
  train::WriteModelFolder(*model, {"neg", "pos"}, 32, truncated);
  const std::string path = truncated + "/model.safetensors";
  fs::resize_file(path, fs::file_size(path) - 4);
  error = LoadError(truncated, 2);
  EXPECT_NE(error.find(path), std::string::npos) << error;
  EXPECT_NE(error.find("truncated"), std::string::npos) << error;
}

// The trainer's end: a job's exported folder is the next job's `model`. With a learning rate too
// small to move any weight, the second job's exported weights are the first job's.
TEST_F(LoaderTest, AJobTrainsFromTheFolderAnotherJobExported) {
  testing::WriteFile(dir_ / "train.csv", testing::SentimentCsv(24, 1));
  testing::WriteFile(dir_ / "three.csv", "text,label\nhello,a\nworld,b\nagain,c\nmore,a\n");
  const auto options = [&](const std::string& model, const std::string& train,
                           const std::string& out) {
    train::TrainOptions o;
    o.model = model;
    o.train_path = (dir_ / train).string();
    o.validation_fraction = 0.25;
    o.micro_batch_size = 4;
    o.epochs = 1;
    o.optimizer = "sgd";
    o.learning_rate = 0.1;
    o.max_seq_length = 16;
    o.threads = 1;
    o.seed = 3;
    o.checkpoint_every_steps = -1;
    o.output_dir = (dir_ / out).string();
    return o;
  };
  struct Logs : train::TrainObserver {
    void OnLog(const std::string& level, const std::string& message) override {
      text += message + "\n";
    }
    std::string text;
  };
  Logs first_logs;
  const train::TrainOutcome first =
      train::RunTrainingJob(options("scratch:bloom-tiny", "train.csv", "first"), &first_logs);
  ASSERT_EQ(first.status, train::TrainOutcome::Status::kSucceeded) << first.error;
  EXPECT_EQ(first_logs.text.find("loaded"), std::string::npos);

  train::TrainOptions again = options((dir_ / "first").string(), "train.csv", "second");
  again.learning_rate = 1e-30;
  Logs second_logs;
  const train::TrainOutcome second = train::RunTrainingJob(again, &second_logs);
  ASSERT_EQ(second.status, train::TrainOutcome::Status::kSucceeded) << second.error;
  EXPECT_NE(second_logs.text.find("loaded 30 tensors from " + (dir_ / "first").string()),
            std::string::npos)
      << second_logs.text;
  auto exported = io::SafetensorsFile::Open((dir_ / "first" / "model.safetensors").string());
  auto retrained = io::SafetensorsFile::Open((dir_ / "second" / "model.safetensors").string());
  ASSERT_EQ(exported->entries().size(), retrained->entries().size());
  for (const io::SafetensorsEntry& entry : exported->entries()) {
    std::vector<float> a(entry.ElementCount()), b(entry.ElementCount());
    exported->ReadAsFloat32(entry, a.data());
    retrained->ReadAsFloat32(*retrained->Find(entry.name), b.data());
    for (std::size_t i = 0; i < a.size(); ++i) {
      ASSERT_NEAR(a[i], b[i], 1e-20) << entry.name << "[" << i << "]";
    }
  }

  // Three labels where the checkpoint has two: a fresh head, said in the job's log.
  Logs third_logs;
  const train::TrainOutcome third =
      train::RunTrainingJob(options((dir_ / "first").string(), "three.csv", "third"), &third_logs);
  ASSERT_EQ(third.status, train::TrainOutcome::Status::kSucceeded) << third.error;
  EXPECT_NE(third_logs.text.find("score.weight has 2 labels, the dataset 3"), std::string::npos)
      << third_logs.text;

  // A folder that is not a model fails the job with the reason.
  const train::TrainOutcome missing =
      train::RunTrainingJob(options((dir_ / "nope").string(), "train.csv", "fourth"), nullptr);
  EXPECT_EQ(missing.status, train::TrainOutcome::Status::kFailed);
  EXPECT_NE(missing.error.find("no such folder"), std::string::npos) << missing.error;
}

}  // namespace
}  // namespace ft
