// Numerical parity of the causal LMs with Hugging Face transformers' *ForCausalLM classes,
// against tests/fixtures/hf/models_lm and exports_lm (written by
// `tests/gpu/hf_reference.py IN OUT --causal-lm` on a lent GPU host; see that folder's README).
// Skipped, as a missing prerequisite, until a host has made them.
//
// models_lm/FAMILY: transformers' tiny random checkpoint loads through our loader as a causal LM
// and gives transformers' logits (at sampled positions), loss (the mean over the shifted target
// tokens, prompt positions masked), gradient norms under the same names (a tied head has none of
// its own), the same after one SGD step, the logits of a row without padding, and the same greedy
// continuation through the KV cache.
// exports_lm/FAMILY: a folder ftworker exported from a causal_lm job, as transformers loaded it:
// the same logits, the same prompt ids from the exported tokenizer, the same greedy tokens and text.
#include <gtest/gtest.h>
#include <torch/types.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/models/end_of_sequence.h"
#include "common/models/model_folder.h"
#include "tests/support/prerequisite.h"
#include "tests/unit/worker/models/hf_fixture.h"
#include "worker/generate/causal_lm_folder.h"
#include "worker/generate/greedy_generate.h"
#include "worker/models/causal_lm.h"
#include "worker/models/model_loader.h"
#include "worker/train/train_step.h"

namespace ft {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using testing::HfFixtureRoot;
using testing::JsonMatrix;
using testing::MaxDifference;
using testing::ReadJsonFile;

// As for the classifiers (hf_parity_test.cc): logits and losses absolute, norms relative.
constexpr double kTolerance = 1e-4;

const std::vector<std::string> kFamilies = {"bloom", "gpt2", "llama", "mistral", "qwen2"};

std::optional<Json> Fixture(const std::string& kind, const std::string& family) {
  const fs::path file = HfFixtureRoot() / kind / family / "expected.json";
  if (!fs::exists(file)) return std::nullopt;
  return ReadJsonFile(file);
}

#define SKIP_WITHOUT(fixture, kind)                                                         \
  if (!(fixture)) {                                                                         \
    FT_SKIP_PREREQUISITE_MISSING()                                                          \
        << "no tests/fixtures/hf/" kind " yet (tests/gpu/hf_reference.py --causal-lm on a " \
           "host with transformers)";                                                       \
  }

models::TrainableModel LoadCausalLm(const fs::path& folder) {
  torch::manual_seed(11);
  return models::BuildModel(models::ReadModelFolderConfig(folder.string()), 0,
                            [](const std::string&, const std::string&) {},
                            models::ModelTask::kCausalLm);
}

models::CausalLmImpl& AsCausalLm(models::TrainableModel& model) {
  auto* causal_lm = dynamic_cast<models::CausalLmImpl*>(model.get());
  if (causal_lm == nullptr) throw std::logic_error("not a causal LM");
  return *causal_lm;
}

// logits [batch, seq, vocab] at the fixture's [row, position] pairs, one row each.
torch::Tensor LogitsAt(const torch::Tensor& logits, const Json& positions) {
  std::vector<torch::Tensor> rows;
  for (const Json& at : positions) {
    rows.push_back(logits[at[0].get<int64_t>()][at[1].get<int64_t>()]);
  }
  return torch::stack(rows);
}

std::vector<int64_t> Ids(const Json& list) { return list.get<std::vector<int64_t>>(); }

using Figures = testing::ParityFigures;

// One forward and backward as transformers' model(input_ids, attention_mask, labels) computes
// it: the mean cross-entropy over the shifted targets.
Figures ForwardBackward(models::TrainableModelImpl& model, const Json& expected,
                        const Json& theirs) {
  const torch::Tensor ids = JsonMatrix(expected["input_ids"], torch::kInt64);
  const torch::Tensor mask = JsonMatrix(expected["attention_mask"], torch::kInt64);
  const torch::Tensor labels = JsonMatrix(expected["labels"], torch::kInt64);
  model.zero_grad(/*set_to_none=*/true);
  const torch::Tensor logits = model.forward(ids, mask);
  const auto targets = (labels.slice(1, 1) != -100).sum().item<int64_t>();
  const torch::Tensor loss = train::SummedTokenCrossEntropy(logits, labels) / targets;
  loss.backward();

  Figures figures;
  figures.logits = MaxDifference(LogitsAt(logits.detach(), expected["logit_positions"]),
                                 JsonMatrix(theirs["logits"], torch::kFloat64));
  figures.loss = std::abs(loss.item<double>() - theirs["loss"].get<double>());
  testing::CompareGradientNorms(testing::NormsOfGradients(model.named_parameters()), theirs,
                                figures);
  return figures;
}

void ExpectWithin(const Figures& figures, const std::string& where) {
  testing::ExpectParity(figures, where, kTolerance);
}

class HfCausalLmParityTest : public ::testing::TestWithParam<std::string> {};

TEST_P(HfCausalLmParityTest, MatchesTransformers) {
  const std::optional<Json> expected = Fixture("models_lm", GetParam());
  SKIP_WITHOUT(expected, "models_lm");
  models::TrainableModel model = LoadCausalLm(HfFixtureRoot() / "models_lm" / GetParam());
  model->eval();  // as the reference: dropout off, gradients still flow
  EXPECT_EQ(model->named_parameters().find("lm_head.weight") == nullptr,
            (*expected)["tied"].get<bool>())
      << "a tied head is the embedding; an untied one is lm_head.weight";

  const Figures before = ForwardBackward(*model, *expected, (*expected)["before"]);
  ExpectWithin(before, GetParam() + " before the step:");
  {
    torch::NoGradGuard no_grad;
    const double lr = (*expected)["sgd_lr"].get<double>();
    for (auto& parameter : model->parameters()) {
      if (parameter.grad().defined()) parameter.sub_(lr * parameter.grad());
    }
  }
  const Figures after = ForwardBackward(*model, *expected, (*expected)["after_one_sgd_step"]);
  ExpectWithin(after, GetParam() + " after one SGD step:");

  const Json& greedy = (*expected)["greedy"];
  const std::vector<int64_t> prompt = Ids(greedy["prompt_ids"]);
  double unpadded = 0;
  {
    torch::NoGradGuard no_grad;
    const torch::Tensor row = torch::tensor(prompt, torch::kInt64).unsqueeze(0);
    unpadded = MaxDifference(model->forward(row, torch::ones_like(row))[0],
                             JsonMatrix((*expected)["unpadded_row1_logits"], torch::kFloat64));
  }
  EXPECT_LE(unpadded, kTolerance) << "unpadded row 1";
  const std::vector<int64_t> generated =
      generate::GreedyGenerate(AsCausalLm(model), prompt, greedy["max_new_tokens"].get<int64_t>(),
                               greedy["eos_token_id"].get<int64_t>());
  EXPECT_EQ(generated, Ids(greedy["new_ids"])) << "greedy continuation of row 1";
  std::printf("%-8s max|dlogits| %.2e |dloss| %.2e grad norm rel %.2e (worst tensor %.2e) | "
              "after SGD: %.2e %.2e %.2e | unpadded %.2e | greedy %zu tokens\n",
              GetParam().c_str(), before.logits, before.loss, before.grad_norm,
              before.tensor_grad_norm, after.logits, after.loss, after.grad_norm, unpadded,
              generated.size());
}

INSTANTIATE_TEST_SUITE_P(Families, HfCausalLmParityTest, ::testing::ValuesIn(kFamilies));

class HfCausalLmExportTest : public ::testing::TestWithParam<std::string> {};

TEST_P(HfCausalLmExportTest, TransformersReadsOurExportAsWeDo) {
  const std::optional<Json> expected = Fixture("exports_lm", GetParam());
  SKIP_WITHOUT(expected, "exports_lm");
  const fs::path folder = HfFixtureRoot() / "exports_lm" / GetParam();
  const models::ModelConfig config = models::ReadModelFolderConfig(folder.string());
  EXPECT_EQ(models::EosTokenId(config),
            (*expected)["generation_config"].value("eos_token_id", Json()).get<int64_t>())
      << "generation_config.json's eos_token_id, as GenerationConfig read it";
  models::TrainableModel model = LoadCausalLm(folder);
  model->eval();
  double logits = 0;
  {
    torch::NoGradGuard no_grad;
    const torch::Tensor all =
        model->forward(JsonMatrix((*expected)["input_ids"], torch::kInt64),
                       JsonMatrix((*expected)["attention_mask"], torch::kInt64));
    logits = MaxDifference(LogitsAt(all, (*expected)["logit_positions"]),
                           JsonMatrix((*expected)["logits"], torch::kFloat64));
  }
  EXPECT_LE(logits, kTolerance) << GetParam();

  const auto opened = generate::CausalLmFolder::Open(folder.string(), 1);
  const auto max_new_tokens = (*expected)["max_new_tokens"].get<int64_t>();
  for (const Json& completion : (*expected)["completions"]) {
    const std::string prompt = completion["prompt"].get<std::string>();
    const std::vector<int64_t> prompt_ids = Ids(completion["prompt_ids"]);
    EXPECT_EQ(opened->Encode(prompt, /*add_special_tokens=*/true), prompt_ids) << prompt;
    EXPECT_EQ(generate::GreedyGenerate(AsCausalLm(model), prompt_ids, max_new_tokens,
                                       models::EosTokenId(config)),
              Ids(completion["new_ids"]))
        << prompt;
    EXPECT_EQ(opened->Complete(prompt, /*add_special_tokens=*/true, max_new_tokens),
              completion["text"].get<std::string>())
        << prompt;
  }
  std::printf("%-8s %s max|dlogits| %.2e, %zu completions\n", GetParam().c_str(),
              (*expected)["class"].get<std::string>().c_str(), logits,
              (*expected)["completions"].size());
}

INSTANTIATE_TEST_SUITE_P(Families, HfCausalLmExportTest, ::testing::ValuesIn(kFamilies));

}  // namespace
}  // namespace ft
