// Dropout while training where transformers applies it (GPT-2, BERT, RoBERTa, DistilBERT), at
// the config.json rates: one training-mode forward and backward of each fixture classifier, its
// rates set to distinct values (so that a rate used in another's place shows), against
// dropout_reference.py, written apart in plain PyTorch (float64) and drawing its masks from the
// same seed: logits, loss and gradient norms within the parity tests' 1e-4. Evaluation mode and
// zero rates draw nothing; a job with model_dropout "off" trains as with every rate 0.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/prerequisite.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/worker/csv_fixture.h"
#include "tests/unit/worker/models/classifier_pass.h"
#include "tests/unit/worker/models/hf_fixture.h"
#include "tests/unit/worker/recording_observer.h"
#include "worker/train/train_job.h"

namespace ft {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using testing::HfFixtureRoot;
using testing::JsonMatrix;
using testing::ReadJsonFile;

constexpr double kTolerance = 1e-4;
constexpr uint64_t kSeed = 20261207;

struct Family {
  std::string name;
  Json rates;  // merged into the fixture's config.json
};

const std::vector<Family>& Families() {
  static const std::vector<Family> families = {
      {"gpt2", {{"embd_pdrop", 0.1}, {"resid_pdrop", 0.2}, {"attn_pdrop", 0.3}}},
      {"bert",
       {{"hidden_dropout_prob", 0.2}, {"attention_probs_dropout_prob", 0.3},
        {"classifier_dropout", 0.4}}},
      {"roberta",
       {{"hidden_dropout_prob", 0.2}, {"attention_probs_dropout_prob", 0.3},
        {"classifier_dropout", 0.4}}},
      {"distilbert", {{"dropout", 0.2}, {"attention_dropout", 0.3}, {"seq_classif_dropout", 0.4}}},
  };
  return families;
}

// The fixture folder `family` under `root`, its config.json with `rates`.
fs::path CopyWithRates(const fs::path& root, const std::string& family, const Json& rates) {
  const fs::path source = HfFixtureRoot() / "models" / family;
  const fs::path folder = root / family;
  fs::create_directories(folder);
  for (const char* file : {"model.safetensors", "expected.json"}) {
    fs::copy_file(source / file, folder / file);
  }
  Json config = ReadJsonFile(source / "config.json");
  config.update(rates);
  testing::WriteFile(folder / "config.json", config.dump(2));
  return folder;
}

// One pass of the folder's model in training or evaluation mode, the generator seeded first.
testing::Pass RunPass(const fs::path& folder, bool training, uint64_t seed) {
  const testing::FixtureBatch batch = testing::ReadFixtureBatch(folder);
  models::TrainableModel model = testing::LoadFolder(folder, batch.num_labels);
  model->train(training);
  torch::manual_seed(seed);
  return testing::ForwardBackward(*model, batch.ids, batch.mask, batch.labels);
}

fs::path ReferenceScript() {
  return HfFixtureRoot().parent_path().parent_path() / "unit/worker/models/dropout_reference.py";
}

TEST(ModelDropoutTest, TrainingModeDropsWhereTransformersDoes) {
  ft::testing::TempDir temp;
  std::string folders;
  for (const Family& family : Families()) {
    folders += " " + CopyWithRates(temp.path(), family.name, family.rates).string();
  }
  const fs::path out = temp.path() / "reference.json";
  const std::string command = std::string(FT_REFERENCE_PYTHON) + " " +
                              ReferenceScript().string() + " " + std::to_string(kSeed) + " " +
                              out.string() + folders + " 2>&1";
  const int status = std::system(command.c_str());
  if (!fs::exists(FT_REFERENCE_PYTHON) || (WIFEXITED(status) && WEXITSTATUS(status) == 77)) {
    FT_SKIP_PREREQUISITE_MISSING() << "no torch in " << FT_REFERENCE_PYTHON;
  }
  ASSERT_EQ(status, 0) << command;
  const Json reference = ReadJsonFile(out);
  for (const Family& family : Families()) {
    const fs::path folder = temp.path() / family.name;
    const testing::Pass trained = RunPass(folder, true, kSeed);
    const testing::ParityFigures figures = testing::Compare(trained, reference[family.name]);
    const double dropped =
        testing::MaxDifference(trained.logits, RunPass(folder, false, kSeed).logits);
    std::printf("[ measured ] %-10s training mode vs the reference: max|dlogits| %.2e, loss "
                "%.2e, gradient norms %.2e (worst tensor %.2e); vs evaluation mode %.2e\n",
                family.name.c_str(), figures.logits, figures.loss, figures.grad_norm,
                figures.tensor_grad_norm, dropped);
    testing::ExpectParity(figures, family.name, kTolerance);
    EXPECT_GT(dropped, 1e-2) << family.name << ": the dropout changed nothing";
  }
}

// Evaluation mode, and training with every rate 0, are deterministic and draw nothing from the
// generator: the same logits from any seed. Llama-style models drop only attention
// probabilities, and only when attention_dropout says so.
TEST(ModelDropoutTest, EvaluationModeAndZeroRatesDrawNothing) {
  ft::testing::TempDir temp;
  std::vector<Family> cases = Families();
  cases.push_back({"llama", {{"attention_dropout", 0.3}}});
  for (const Family& family : cases) {
    const fs::path folder = CopyWithRates(temp.path() / "rates", family.name, family.rates);
    EXPECT_TRUE(torch::equal(RunPass(folder, false, 1).logits, RunPass(folder, false, 2).logits))
        << family.name;
    EXPECT_FALSE(torch::equal(RunPass(folder, true, 1).logits, RunPass(folder, true, 2).logits))
        << family.name;
    Json zero = family.rates;
    for (Json& rate : zero) rate = 0.0;
    const fs::path plain = CopyWithRates(temp.path() / "zero", family.name, zero);
    EXPECT_TRUE(torch::equal(RunPass(plain, true, 1).logits, RunPass(plain, false, 2).logits))
        << family.name;
  }
}

// model_dropout "off" is the model with every rate 0: the same bits as a copy of the folder whose
// config.json says 0; "config" trains with the rates (other bits) and logs them.
TEST(ModelDropoutTest, ModelDropoutOffTrainsAsZeroRates) {
  ft::testing::TempDir temp;
  testing::WriteFile(temp.path() / "train.csv", testing::SentimentCsv(24, 1));
  const Family& gpt2 = Families()[0];
  Json zero = gpt2.rates;
  for (Json& rate : zero) rate = 0.0;
  const fs::path with_rates = CopyWithRates(temp.path() / "rates", gpt2.name, gpt2.rates);
  const fs::path zero_rates = CopyWithRates(temp.path() / "zero", gpt2.name, zero);
  const auto run = [&](const fs::path& model, const std::string& dropout,
                       const std::string& out) {
    train::TrainOptions options;
    options.model = model.string();
    options.train_path = (temp.path() / "train.csv").string();
    options.micro_batch_size = 4;
    options.accumulation_steps = 2;
    options.max_steps = 2;
    options.max_seq_length = 32;
    options.threads = 1;
    options.model_dropout = dropout;
    options.output_dir = (temp.path() / out).string();
    testing::RecordingObserver observer;
    const train::TrainOutcome outcome = train::RunTrainingJob(options, &observer);
    EXPECT_EQ(outcome.status, train::TrainOutcome::Status::kSucceeded) << outcome.error;
    return std::make_pair(testing::ReadAll(temp.path() / out / "model.safetensors"), observer);
  };
  const auto [off, off_observer] = run(with_rates, "off", "off");
  const auto [zeros, zeros_observer] = run(zero_rates, "config", "zeros");
  const auto [on, on_observer] = run(with_rates, "config", "on");
  EXPECT_TRUE(off == zeros) << "model_dropout off did not train as zero rates";
  EXPECT_TRUE(on != off) << "the config's rates changed nothing";
  EXPECT_FALSE(off_observer.Logged("dropout while training"))
      << ::testing::PrintToString(off_observer.messages);
  EXPECT_TRUE(on_observer.Logged("dropout while training (config.json's rates): embeddings 0.1, "
                                 "attention output 0.2, feed-forward output 0.2, attention "
                                 "probabilities 0.3, classifier input 0"))
      << ::testing::PrintToString(on_observer.messages);
}

}  // namespace
}  // namespace ft
