// Numerical parity with Hugging Face transformers for every family, against the references in
// tests/fixtures/hf (computed by transformers 5.17.0 itself; see its README): each tiny
// checkpoint loads through our loader and gives the same logits, loss, gradient norms (total and
// per tensor, under the same names), the same again after one plain SGD step, and the same
// logits for a row without padding. Also: the logits transformers computed on a folder ftworker
// exported, activation checkpointing per family, and that the comparison notices a model that
// ignores padding.
#include <gtest/gtest.h>
#include <torch/nn/functional/loss.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/models/model_folder.h"
#include "tests/support/prerequisite.h"
#include "tests/unit/worker/models/classifier_pass.h"
#include "tests/unit/worker/models/hf_fixture.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/worker/csv_fixture.h"
#include "worker/io/safetensors_reader.h"
#include "worker/io/safetensors_writer.h"
#include "worker/models/model_loader.h"
#include "worker/models/torchscript_model.h"
#include "worker/output/model_export.h"
#include "worker/train/autocast_scope.h"
#include "worker/train/train_job.h"

namespace ft {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// Absolute tolerance for logits and losses (fp32); gradient norms are compared relatively.
constexpr double kTolerance = 1e-4;

using testing::HfFixtureRoot;
using testing::JsonMatrix;
using testing::MaxDifference;
using testing::ReadJsonFile;
using testing::RelativeDifference;

using testing::Compare;
using testing::ForwardBackward;
using testing::LoadFolder;
using testing::Pass;
using Figures = testing::ParityFigures;

struct Parity {
  Figures before;
  Figures after;
  double unpadded = 0;
};

// The reference's procedure on our implementation. ignore_padding: the deliberate mistake of a
// model that never sees the mask (all ones), which the comparison must notice.
Parity RunParity(const std::string& family, bool ignore_padding = false) {
  const fs::path folder = HfFixtureRoot() / "models" / family;
  const Json expected = ReadJsonFile(folder / "expected.json");
  const torch::Tensor ids = JsonMatrix(expected["input_ids"], torch::kInt64);
  torch::Tensor mask = JsonMatrix(expected["attention_mask"], torch::kInt64);
  if (ignore_padding) mask = torch::ones_like(mask);
  std::vector<int64_t> label_values;
  for (const Json& label : expected["labels"]) label_values.push_back(label.get<int64_t>());
  const torch::Tensor labels = torch::tensor(label_values, torch::kInt64);
  const auto num_labels = static_cast<int64_t>(expected["before"]["logits"][0].size());

  models::TrainableModel model = LoadFolder(folder, num_labels);
  model->eval();  // as the reference: dropout off, gradients still flow
  Parity parity;
  parity.before = Compare(ForwardBackward(*model, ids, mask, labels), expected["before"]);
  {
    torch::NoGradGuard no_grad;
    const double lr = expected["sgd_lr"].get<double>();
    for (auto& parameter : model->parameters()) {
      if (parameter.grad().defined()) parameter.sub_(lr * parameter.grad());
    }
  }
  parity.after =
      Compare(ForwardBackward(*model, ids, mask, labels), expected["after_one_sgd_step"]);
  {
    torch::NoGradGuard no_grad;
    const int64_t length =
        JsonMatrix(expected["attention_mask"], torch::kInt64)[1].sum().item<int64_t>();
    const torch::Tensor row = ids.slice(0, 1, 2).slice(1, 0, length);
    const torch::Tensor logits = model->forward(row, torch::ones_like(row));
    parity.unpadded =
        MaxDifference(logits, JsonMatrix(expected["unpadded_row1_logits"], torch::kFloat64));
  }
  return parity;
}

void ExpectWithin(const Figures& figures, const std::string& where) {
  testing::ExpectParity(figures, where, kTolerance);
}

class HfParityTest : public ::testing::TestWithParam<std::string> {};

TEST_P(HfParityTest, MatchesTransformers) {
  const Parity parity = RunParity(GetParam());
  ExpectWithin(parity.before, GetParam() + " before the step:");
  ExpectWithin(parity.after, GetParam() + " after one SGD step:");
  EXPECT_LE(parity.unpadded, kTolerance) << "unpadded row 1";
  // The figures for the report (ctest --output-on-failure -V shows them).
  std::printf("%-10s max|dlogits| %.2e  |dloss| %.2e  grad norm rel %.2e (worst tensor %.2e) | "
              "after SGD: %.2e %.2e %.2e | unpadded %.2e\n",
              GetParam().c_str(), parity.before.logits, parity.before.loss,
              parity.before.grad_norm, parity.before.tensor_grad_norm, parity.after.logits,
              parity.after.loss, parity.after.grad_norm, parity.unpadded);
}

// The same comparison with the attention mask ignored must fail: the tolerance is tight enough
// to see a model that attends to padding or pools the wrong position. (Measured: the decoders'
// logits move by 0.2-0.3; in the tiny BERT-likes, initialised with std 0.02, attending to padding
// moves the logits by only 1.4e-4 to 3.1e-4 and the worst figure by 5e-4 to 1.3e-3, still 5x the
// tolerance.)
TEST_P(HfParityTest, NoticesAModelThatIgnoresPadding) {
  const Parity parity = RunParity(GetParam(), /*ignore_padding=*/true);
  const double worst = std::max({parity.before.logits, parity.before.loss, parity.before.grad_norm,
                                 parity.before.tensor_grad_norm, parity.after.logits,
                                 parity.after.loss, parity.after.grad_norm});
  EXPECT_GT(worst, 2 * kTolerance);
  std::printf("%-10s with the mask ignored: max|dlogits| %.2e, worst figure %.2e\n",
              GetParam().c_str(), parity.before.logits, worst);
}

// Activation checkpointing recomputes each block in the backward pass: the same gradients, in
// training mode with the configs' dropout (0.1 for GPT-2 and the BERT family): the recomputation
// draws the forward's masks.
TEST_P(HfParityTest, ActivationCheckpointingGivesTheSameGradients) {
  const fs::path folder = HfFixtureRoot() / "models" / GetParam();
  const testing::FixtureBatch batch = testing::ReadFixtureBatch(folder);
  models::TrainableModel plain = LoadFolder(folder, batch.num_labels);
  models::TrainableModel checkpointed = LoadFolder(folder, batch.num_labels);
  checkpointed->set_activation_checkpointing(true);
  torch::manual_seed(5);
  const Pass a = ForwardBackward(*plain, batch.ids, batch.mask, batch.labels);
  torch::manual_seed(5);
  const Pass b = ForwardBackward(*checkpointed, batch.ids, batch.mask, batch.labels);
  EXPECT_TRUE(torch::equal(a.logits, b.logits));
  for (const auto& [name, norm] : a.norms.per_tensor) {
    EXPECT_NEAR(b.norms.per_tensor.at(name), norm, 1e-6 * std::max(1.0, norm)) << name;
  }
}

// precision "bf16" (CPU bf16 autocast), the reference's procedure: the pass runs (the blocked
// attention scores' fill once overflowed bf16 in every family but BLOOM), its logits within
// bf16's rounding of the float32 pass's, every gradient finite.
TEST_P(HfParityTest, Bf16AutocastPassStaysNearFloat32) {
  const fs::path folder = HfFixtureRoot() / "models" / GetParam();
  const testing::FixtureBatch batch = testing::ReadFixtureBatch(folder);
  models::TrainableModel model = LoadFolder(folder, batch.num_labels);
  model->eval();
  const Pass float32 = ForwardBackward(*model, batch.ids, batch.mask, batch.labels);
  Pass bf16;
  {
    const train::AutocastScope autocast(true, torch::Device(torch::kCPU));
    bf16 = ForwardBackward(*model, batch.ids, batch.mask, batch.labels);
  }
  const double difference = MaxDifference(bf16.logits, float32.logits);
  std::printf("%-10s bf16 autocast vs float32: max|dlogits| %.2e (logits up to %.2e)\n",
              GetParam().c_str(), difference, float32.logits.abs().max().item<double>());
  EXPECT_LE(difference, 2e-2);
  for (const auto& [name, norm] : bf16.norms.per_tensor) EXPECT_TRUE(std::isfinite(norm)) << name;
}

INSTANTIATE_TEST_SUITE_P(Families, HfParityTest,
                         ::testing::Values("bloom", "gpt2", "llama", "mistral", "qwen2", "bert",
                                           "distilbert", "roberta"));

// Folders ftworker exported (export/: BLOOM; exports/NAME/: every other family), as
// transformers loaded them on the GPU host: our loader gives the same logits.
TEST(HfExportParityTest, OurExportsGiveTransformersLogits) {
  std::vector<fs::path> folders = {HfFixtureRoot() / "export"};
  for (const char* family :
       {"gpt2", "llama", "mistral", "qwen2", "bert", "distilbert", "roberta"}) {
    folders.push_back(HfFixtureRoot() / "exports" / family);
  }
  for (const fs::path& folder : folders) {
    const Json expected = ReadJsonFile(folder / "expected.json");
    const auto num_labels = static_cast<int64_t>(expected["logits"][0].size());
    models::TrainableModel model = LoadFolder(folder, num_labels);
    torch::NoGradGuard no_grad;
    model->eval();
    const torch::Tensor logits =
        model->forward(JsonMatrix(expected["input_ids"], torch::kInt64),
                       JsonMatrix(expected["attention_mask"], torch::kInt64));
    const double difference =
        MaxDifference(logits, JsonMatrix(expected["logits"], torch::kFloat64));
    EXPECT_LE(difference, kTolerance) << folder;
    std::printf("%-18s %s max|dlogits| %.2e\n", folder.filename().c_str(),
                expected["class"].get<std::string>().c_str(), difference);
  }
}

}  // namespace
}  // namespace ft

// ----- Loading, export and whole jobs for the families (same executable: one Torch TU) -----
namespace ft {
namespace {

class HfFamilyJobTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = temp_.path(); }

  static torch::Tensor Logits(models::TrainableModelImpl& model, const Json& expected) {
    torch::NoGradGuard no_grad;
    model.eval();  // no dropout
    return model.forward(JsonMatrix(expected["input_ids"], torch::kInt64),
                         JsonMatrix(expected["attention_mask"], torch::kInt64));
  }

  train::TrainOptions JobOptions(const std::string& model, const std::string& out) {
    testing::WriteFile(dir_ / "train.csv", testing::SentimentCsv(24, 1));
    train::TrainOptions options;
    options.model = model;
    options.train_path = (dir_ / "train.csv").string();
    options.validation_fraction = 0.25;
    options.micro_batch_size = 4;
    options.accumulation_steps = 2;
    options.epochs = 1;
    options.learning_rate = 1e-2;
    options.max_seq_length = 24;
    options.threads = 1;
    options.seed = 3;
    options.output_dir = (dir_ / out).string();
    return options;
  }

  testing::TempDir temp_;  // a fresh folder per test, whatever else runs beside it
  fs::path dir_;
};

// Each family's exported folder: config.json with transformers' class and the labels,
// model.safetensors under the same names, and it loads back to the same logits bit for bit.
TEST_F(HfFamilyJobTest, ExportedFoldersLoadBackForEveryFamily) {
  for (const std::string family :
       {"bloom", "gpt2", "llama", "mistral", "qwen2", "bert", "distilbert", "roberta"}) {
    const fs::path folder = HfFixtureRoot() / "models" / family;
    const Json expected = ReadJsonFile(folder / "expected.json");
    models::TrainableModel model = LoadFolder(folder, 3);
    const fs::path out = dir_ / family;
    train::WriteModelFolder(*model, {"neg", "neutral", "pos"}, 32, out.string());
    const Json config = ReadJsonFile(out / "config.json");
    EXPECT_EQ(config["architectures"][0], expected["class"]) << family;
    EXPECT_EQ(config["model_type"], ReadJsonFile(folder / "config.json")["model_type"]) << family;
    EXPECT_EQ(config["id2label"]["2"], "pos") << family;
    EXPECT_EQ(config["label2id"]["neutral"], 1) << family;
    std::string log;
    models::TrainableModel loaded = LoadFolder(out, 3, &log);
    EXPECT_EQ(log.find("fresh"), std::string::npos) << family << ": " << log;
    EXPECT_TRUE(torch::equal(Logits(*model, expected), Logits(*loaded, expected))) << family;
    // The names transformers saved are the names we write.
    auto theirs = io::SafetensorsFile::Open((folder / "model.safetensors").string());
    auto ours = io::SafetensorsFile::Open((out / "model.safetensors").string());
    for (const io::SafetensorsEntry& entry : ours->entries()) {
      EXPECT_NE(theirs->Find(entry.name), nullptr) << family << ": " << entry.name;
    }
  }
}

// A checkpoint split into shards with an index loads to the same weights as the single file.
TEST_F(HfFamilyJobTest, ShardedCheckpointLoadsAsTheSingleFile) {
  const fs::path source = HfFixtureRoot() / "models" / "llama";
  const fs::path folder = dir_ / "sharded";
  fs::create_directories(folder);
  fs::copy_file(source / "config.json", folder / "config.json");
  auto file = io::SafetensorsFile::Open((source / "model.safetensors").string());
  std::vector<std::vector<float>> copies;
  std::vector<io::Float32TensorView> shards[2];
  Json index;
  std::size_t n = 0;
  for (const io::SafetensorsEntry& entry : file->entries()) {
    copies.emplace_back(static_cast<std::size_t>(entry.ElementCount()));
    file->ReadAsFloat32(entry, copies.back().data());
    const int shard = n++ % 2;
    shards[shard].push_back({entry.name, entry.shape, copies.back().data()});
    index["weight_map"][entry.name] =
        "model-0000" + std::to_string(shard + 1) + "-of-00002.safetensors";
  }
  io::WriteSafetensors((folder / "model-00001-of-00002.safetensors").string(), shards[0]);
  io::WriteSafetensors((folder / "model-00002-of-00002.safetensors").string(), shards[1]);
  testing::WriteFile(folder / "model.safetensors.index.json", index.dump());
  const Json expected = ReadJsonFile(source / "expected.json");
  std::string log;
  models::TrainableModel sharded = LoadFolder(folder, 3, &log);
  models::TrainableModel single = LoadFolder(source, 3);
  EXPECT_NE(log.find("(2 shards)"), std::string::npos) << log;
  EXPECT_TRUE(torch::equal(Logits(*sharded, expected), Logits(*single, expected)));

  // A shard the index names but the folder lacks fails the load, naming both.
  fs::remove(folder / "model-00002-of-00002.safetensors");
  try {
    LoadFolder(folder, 3);
    ADD_FAILURE() << "loaded without a shard";
  } catch (const std::exception& error) {
    EXPECT_NE(std::string(error.what()).find("model-00002-of-00002.safetensors, which does not"),
              std::string::npos)
        << error.what();
  }
}

// A base-model checkpoint (no head) gets a fresh head of num_labels, said in the log.
TEST_F(HfFamilyJobTest, CheckpointWithoutHeadGetsAFreshOne) {
  const fs::path source = HfFixtureRoot() / "models" / "qwen2";
  const fs::path folder = dir_ / "base";
  fs::create_directories(folder);
  fs::copy_file(source / "config.json", folder / "config.json");
  auto file = io::SafetensorsFile::Open((source / "model.safetensors").string());
  std::vector<std::vector<float>> copies;
  std::vector<io::Float32TensorView> views;
  for (const io::SafetensorsEntry& entry : file->entries()) {
    if (entry.name == "score.weight") continue;
    copies.emplace_back(static_cast<std::size_t>(entry.ElementCount()));
    file->ReadAsFloat32(entry, copies.back().data());
    // As Qwen2Model.save_pretrained names them: without "model.".
    views.push_back({entry.name.substr(6), entry.shape, copies.back().data()});
  }
  io::WriteSafetensors((folder / "model.safetensors").string(), views);
  std::string log;
  models::TrainableModel model = LoadFolder(folder, 5, &log);
  EXPECT_NE(log.find("has no score.weight: initialised a fresh classification head for 5"),
            std::string::npos)
      << log;
  EXPECT_EQ(model->named_parameters()["score.weight"].size(0), 5);
}

// A whole job on a Llama-style checkpoint: trains, checkpoints, exports a folder transformers
// can load (LlamaForSequenceClassification, two labels) that loads back here.
TEST_F(HfFamilyJobTest, AJobFinetunesALlamaCheckpoint) {
  const std::string llama = (HfFixtureRoot() / "models" / "llama").string();
  const train::TrainOutcome outcome = train::RunTrainingJob(JobOptions(llama, "out"), nullptr);
  ASSERT_EQ(outcome.status, train::TrainOutcome::Status::kSucceeded) << outcome.error;
  const Json config = ReadJsonFile(dir_ / "out" / "config.json");
  EXPECT_EQ(config["architectures"][0], "LlamaForSequenceClassification");
  EXPECT_EQ(config["num_labels"], 2);
  EXPECT_EQ(config["rope_parameters"]["rope_type"], "default");  // the checkpoint's fields kept
  std::string log;
  LoadFolder(dir_ / "out", 2, &log);
  EXPECT_EQ(log.find("fresh"), std::string::npos) << log;
}

// ----- TorchScript -----

std::string MakeScript(const fs::path& path, int labels) {
  const std::string command = std::string(FT_REFERENCE_PYTHON) + " " + FT_TORCHSCRIPT_MAKER + " " +
                              path.string() + " " + std::to_string(labels) + " 2>&1";
  return std::system(command.c_str()) == 0 ? "" : "cannot run " + command;
}

TEST_F(HfFamilyJobTest, TorchScriptModuleTrainsThroughTheSameLoop) {
  const fs::path script = dir_ / "classifier.pt";
  if (const std::string problem = MakeScript(script, 2); !problem.empty())
    FT_SKIP_PREREQUISITE_MISSING() << problem;
  const train::TrainOutcome outcome =
      train::RunTrainingJob(JobOptions(script.string(), "out"), nullptr);
  ASSERT_EQ(outcome.status, train::TrainOutcome::Status::kSucceeded) << outcome.error;
  ASSERT_TRUE(fs::exists(dir_ / "out" / "model.pt"));
  EXPECT_EQ(ReadJsonFile(dir_ / "out" / "config.json")["id2label"].size(), 2u);
  // The exported module holds the trained weights: not the initial ones.
  torch::jit::Module before = torch::jit::load(script.string());
  torch::jit::Module after = torch::jit::load((dir_ / "out" / "model.pt").string());
  EXPECT_FALSE(torch::equal(before.attr("head").toModule().attr("weight").toTensor(),
                            after.attr("head").toModule().attr("weight").toTensor()));
}

TEST_F(HfFamilyJobTest, TorchScriptModuleOfTheWrongShapeIsRefused) {
  const fs::path script = dir_ / "three.pt";
  if (const std::string problem = MakeScript(script, 3); !problem.empty())
    FT_SKIP_PREREQUISITE_MISSING() << problem;
  try {
    models::LoadTorchScriptClassifier(script.string(), 2);
    ADD_FAILURE() << "accepted a module with 3 outputs for 2 labels";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("returned [1, 3]"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find(script.string()), std::string::npos);
  }
  testing::WriteFile(dir_ / "junk.pt", "not a zip archive");
  try {
    models::LoadTorchScriptClassifier((dir_ / "junk.pt").string(), 2);
    ADD_FAILURE() << "accepted junk";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("not a loadable TorchScript module"),
              std::string::npos)
        << error.what();
  }
}

}  // namespace
}  // namespace ft
