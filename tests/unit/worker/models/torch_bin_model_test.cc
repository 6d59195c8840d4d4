// A model built from a pytorch_model.bin folder equals the one built from the same weights in
// safetensors, parameter for parameter and bit for bit, for BERT, GPT-2 (matrices stored as
// transposed views) and Llama (two .bin shards), through BuildModel as a job loads them; and a
// causal LM loads from .bin too. Fixtures from /usr/bin/python3's torch.save (skipped without it).
#include <gtest/gtest.h>
#include <torch/types.h>

#include <filesystem>
#include <string>

#include "common/models/model_folder.h"
#include "tests/support/prerequisite.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/worker/models/torch_bin_fixtures.h"
#include "worker/models/model_loader.h"

namespace ft {
namespace {

namespace fs = std::filesystem;

models::TrainableModel Load(const fs::path& folder, std::string* log,
                            models::ModelTask task = models::ModelTask::kSequenceClassification) {
  torch::manual_seed(11);  // the same fresh head, if any, on both sides
  return models::BuildModel(
      models::ReadModelFolderConfig(folder.string()), 3,
      [log](const std::string& level, const std::string& message) {
        *log += level + ": " + message + "\n";
      },
      task);
}

TEST(TorchBinModelTest, EveryFamilyLoadsTheSameParametersAsFromSafetensors) {
  testing::TempDir dir;
  if (const std::string problem = testing::MakeTorchBinFixtures(dir.path()); !problem.empty())
    FT_SKIP_PREREQUISITE_MISSING() << problem;
  for (const std::string family : {"bert", "gpt2", "llama"}) {
    std::string bin_log, safetensors_log;
    const models::TrainableModel bin = Load(dir.path() / (family + "_bin"), &bin_log);
    const models::TrainableModel safetensors =
        Load(testing::HfFixtureModels() / family, &safetensors_log);
    EXPECT_NE(bin_log.find("pytorch_model.bin"), std::string::npos) << bin_log;
    const auto theirs = safetensors->named_parameters();
    const auto ours = bin->named_parameters();
    ASSERT_EQ(ours.size(), theirs.size()) << family;
    for (const auto& item : theirs) {
      const torch::Tensor* mine = ours.find(item.key());
      ASSERT_NE(mine, nullptr) << item.key();
      // Bit for bit: equal values, NaN payloads and signed zeros included.
      EXPECT_TRUE(torch::equal(mine->view(torch::kInt32), item.value().view(torch::kInt32)))
          << family << " " << item.key();
    }
  }
  std::string log;
  const models::TrainableModel causal =
      Load(dir.path() / "llama_bin", &log, models::ModelTask::kCausalLm);
  EXPECT_NE(log.find("pytorch_model.bin.index.json (2 shards)"), std::string::npos) << log;
}

}  // namespace
}  // namespace ft
