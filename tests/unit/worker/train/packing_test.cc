// Packing (worker/data/packing.h) changes speed, not the gradient: on TREC questions as
// prompt/completion rows, a window packed into rows of max_seq_length gives the gradients and,
// after SGD steps, the parameters of the same window unpacked, within 1e-6 of each tensor's
// largest value, for BLOOM (ALiBi), GPT-2 (learned positions) and Llama (rotary positions), in
// float64 (packing alone) and float32. A mask that lets a token see the example before it misses
// the bars by 0.3 to 1; positions that run on across a row miss them for GPT-2 (0.9) and, through
// the rounding of float32 rotary angles, for Llama (1e-6 in float64); for BLOOM they are exact
// (ALiBi's bias then moves by a constant per query, which softmax ignores). Plus the packer's
// best-fit rows and the packed collation.
#include "worker/data/packing.h"

#include <gtest/gtest.h>
#include <torch/optim/sgd.h>
#include <torch/types.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "common/models/hf_config.h"
#include "tests/support/prerequisite.h"
#include "tests/support/temp_dir.h"
#include "worker/data/epoch_plan.h"
#include "worker/data/lm_data.h"
#include "worker/data/micro_batch.h"
#include "worker/models/model_loader.h"
#include "worker/train/train_step.h"

namespace ft::train {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kEos = 2;
constexpr int64_t kRowLength = 160;

TEST(PackRowsTest, BestFitDecreasing) {
  // Lengths 5, 4, 3, 3, 1 into rows of 8: the second 3 goes to the fuller row that still has room.
  const std::vector<std::size_t> lengths = {5, 4, 3, 3, 1};
  EXPECT_EQ(PackRows({0, 1, 2, 3, 4}, lengths, 8),
            (std::vector<std::vector<std::size_t>>{{0, 2}, {1, 3, 4}}));
  EXPECT_THROW(PackRows({0}, lengths, 4), std::invalid_argument);
}

TEST(PackRowsTest, PackedWindowKeepsItsExamplesAndCutsRowsIntoMicroBatches) {
  const std::vector<std::size_t> lengths = {6, 6, 6, 2, 2, 2, 1};
  Window window;
  window.micro_batches = {{0, 1}, {2, 3}, {4, 5}, {6}};
  const Window packed = PackWindow(window, lengths, 8, 2);
  ASSERT_TRUE(packed.packed());
  EXPECT_EQ(packed.size(), 7u);
  // Rows 6 + 2, 6 + 2, 6 + 2 and 1: two micro-batches of two rows, padded to 8 and 8.
  ASSERT_EQ(packed.micro_batches.size(), 2u);
  EXPECT_EQ(packed.examples_per_row, (std::vector<std::vector<std::size_t>>{{2, 2}, {2, 1}}));
  const PaddingCount padding = CountPadding({packed}, lengths);
  EXPECT_EQ(padding.tokens, 25);
  EXPECT_EQ(padding.slots, 4 * 8);
  EXPECT_EQ(CountPadding({window}, lengths).slots, 2 * 6 + 2 * 6 + 2 * 2 + 1);
  const Window recut = RecutWindow(packed, 1);
  EXPECT_EQ(recut.micro_batches.size(), 4u);
  EXPECT_EQ(recut.size(), 7u);
  // Rows are sorted by their tokens, longest first: rows [6, 3] (3 tokens) and [0] (6).
  EXPECT_EQ(PackWindow({{{6}, {3}, {0}}, {}}, lengths, 7, 1).micro_batches,
            (std::vector<std::vector<std::size_t>>{{0}, {6, 3}}));
}

// TREC's first questions as prompt/completion rows ("question" -> " type N"), byte-tokenized.
class PackingExactnessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* shared = std::getenv("FT_SHARED_DATA");
    const fs::path csv = fs::path(shared != nullptr ? shared : "../shared/data") / "trec/train.csv";
    if (!fs::exists(csv)) FT_SKIP_PREREQUISITE_MISSING() << "no " << csv;
    std::ifstream in(csv);
    std::string line;
    std::getline(in, line);  // header
    std::string rows;
    for (int i = 0; i < 16 && std::getline(in, line);) {
      // text,label with the label a class number after the last comma.
      const std::size_t comma = line.rfind(',');
      std::string text = line.substr(0, comma);
      if (text.size() >= 2 && text.front() == '"') text = text.substr(1, text.size() - 2);
      if (text.size() > 60) continue;  // rows short enough to share a row of kRowLength
      rows += nlohmann::json(
                  {{"prompt", text + "\nType:"}, {"completion", " type " + line.substr(comma + 1)}})
                  .dump() +
              "\n";
      ++i;
    }
    TrainOptions options;
    options.model = "scratch:bloom-tiny";
    options.task = "causal_lm";
    options.train_path = dir_.Write("train.jsonl", rows);
    options.validation_fraction = 0;
    options.max_seq_length = kRowLength;
    data_ = LoadLmJobData(options, kEos).train;
    ASSERT_EQ(data_.size(), 16u);
    lengths_ = data_.input_ids.Lengths();
  }

  // Trains `model` for the epoch's windows (micro 2 x 4, packed or not) with SGD, checking each
  // window's gradient against `reference`'s when given. Returns the largest gradient gap seen.
  double Train(models::TrainableModelImpl& model, bool packed,
               std::vector<std::vector<torch::Tensor>>* gradients) {
    const std::vector<Window> planned = PlanEpoch(lengths_, {2, 4, 7, false}, 1);
    const std::vector<Window> windows =
        packed ? PackWindows(planned, lengths_, kRowLength, 2) : planned;
    torch::optim::SGD sgd(model.parameters(), torch::optim::SGDOptions(0.5));
    double worst = 0;
    for (std::size_t w = 0; w < windows.size(); ++w) {
      if (packed) {
        // The test means something only if rows really hold several examples.
        EXPECT_LT(windows[w].micro_batches.size(), planned[w].micro_batches.size());
      }
      std::vector<MicroBatch> batches;
      for (std::size_t m = 0; m < windows[w].micro_batches.size(); ++m) {
        batches.push_back(CollateWindowMicroBatch(data_, windows[w], m, torch::kCPU));
      }
      sgd.zero_grad();
      AccumulateWindow(model, batches, WindowLossTerms(batches));
      std::vector<torch::Tensor> grads;
      for (const torch::Tensor& p : model.parameters()) grads.push_back(p.grad().clone());
      if (gradients->size() <= w) {
        gradients->push_back(grads);
      } else {
        worst = std::max(worst, LargestRelativeGap((*gradients)[w], grads));
      }
      sgd.step();
    }
    return worst;
  }

  // max over tensors of max|a - b| / max|a|.
  static double LargestRelativeGap(const std::vector<torch::Tensor>& a,
                                   const std::vector<torch::Tensor>& b) {
    double worst = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
      const double scale = std::max(a[i].abs().max().item<double>(), 1e-30);
      worst = std::max(worst, (a[i] - b[i]).abs().max().item<double>() / scale);
    }
    return worst;
  }

  // The largest gaps (gradients, parameters) between packed and unpacked training in `dtype`.
  std::pair<double, double> PackedVersusUnpacked(const models::ModelConfig& config,
                                                 torch::ScalarType dtype) {
    torch::manual_seed(5);
    models::TrainableModel unpacked =
        models::BuildArchitecture(config, 0, models::ModelTask::kCausalLm);
    torch::manual_seed(5);
    models::TrainableModel packed =
        models::BuildArchitecture(config, 0, models::ModelTask::kCausalLm);
    unpacked->to(dtype);
    packed->to(dtype);
    std::vector<std::vector<torch::Tensor>> gradients;
    Train(*unpacked, false, &gradients);
    const double gradient_gap = Train(*packed, true, &gradients);
    std::vector<torch::Tensor> a;
    std::vector<torch::Tensor> b;
    for (const torch::Tensor& p : unpacked->parameters()) a.push_back(p.detach());
    for (const torch::Tensor& p : packed->parameters()) b.push_back(p.detach());
    return {gradient_gap, LargestRelativeGap(a, b)};
  }

  // In float64 the comparison sees packing alone; in float32 also the rounding of rows of other
  // shapes (matrix products summed in another order), which is what a job sees.
  void ExpectPackedEqualsUnpacked(const std::string& family, const std::string& config_json) {
    const models::ModelConfig config = models::ParseModelConfigJson(config_json, "config.json");
    const auto [gradients64, parameters64] = PackedVersusUnpacked(config, torch::kFloat64);
    const auto [gradients32, parameters32] = PackedVersusUnpacked(config, torch::kFloat32);
    std::printf(
        "%s packed vs unpacked, largest gap per tensor / its largest value: float64 "
        "gradients %.2g, parameters after 2 SGD steps %.2g; float32 %.2g, %.2g\n",
        family.c_str(), gradients64, parameters64, gradients32, parameters32);
    // float64 rounding is ~1e-15. Llama's rotary tables are float32, so positions that run on
    // across a row (a relative rotation, equal in exact arithmetic) show as ~1e-6.
    EXPECT_LE(gradients64, 1e-9);
    EXPECT_LE(parameters64, 1e-9);
    // float32 rounding of other shapes alone reaches ~1e-6 here; a leak is ~1e-2.
    EXPECT_LE(gradients32, 1e-5);
    EXPECT_LE(parameters32, 1e-6);
  }

  ft::testing::TempDir dir_;
  TokenizedSplit data_;
  std::vector<std::size_t> lengths_;
};

TEST_F(PackingExactnessTest, PackedCollationNumbersExamplesAndNeverPredictsAcrossThem) {
  const MicroBatch batch = CollatePackedMicroBatch(data_, {0, 1, 2}, {2, 1}, torch::kCPU);
  const int64_t first = static_cast<int64_t>(lengths_[0]);
  const int64_t second = static_cast<int64_t>(lengths_[1]);
  ASSERT_EQ(batch.input_ids.size(0), 2);
  EXPECT_EQ(batch.input_ids.size(1), first + second);
  EXPECT_EQ(batch.examples, 3);
  EXPECT_TRUE(batch.packed);
  EXPECT_FALSE(CollatePackedMicroBatch(data_, {0, 1}, {1, 1}, torch::kCPU).packed)
      << "one example per row needs no packed forward";
  EXPECT_EQ(batch.attention_mask[0][first - 1].item<int64_t>(), 1);
  EXPECT_EQ(batch.attention_mask[0][first].item<int64_t>(), 2);
  // The second example's first token is no target: nothing asks example 1 to predict it.
  EXPECT_EQ(batch.labels[0][first].item<int64_t>(), kIgnoredLabel);
  EXPECT_EQ(batch.attention_mask[1][static_cast<int64_t>(lengths_[2])].item<int64_t>(), 0);
}

TEST_F(PackingExactnessTest, BloomAlibi) {
  ExpectPackedEqualsUnpacked("BLOOM",
                             R"({"model_type": "bloom", "vocab_size": 300, "hidden_size": 32,
    "n_layer": 2, "n_head": 4, "initializer_range": 0.2, "eos_token_id": 2})");
}

TEST_F(PackingExactnessTest, Gpt2LearnedPositions) {
  ExpectPackedEqualsUnpacked("GPT-2", R"({"model_type": "gpt2", "vocab_size": 300, "n_embd": 32,
    "n_layer": 2, "n_head": 4, "n_positions": 256, "initializer_range": 0.2, "eos_token_id": 2,
    "embd_pdrop": 0, "resid_pdrop": 0, "attn_pdrop": 0})");
}

TEST_F(PackingExactnessTest, LlamaRotaryPositions) {
  ExpectPackedEqualsUnpacked("Llama",
                             R"({"model_type": "llama", "vocab_size": 300, "hidden_size": 32,
    "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
    "intermediate_size": 64, "initializer_range": 0.2, "tie_word_embeddings": false,
    "eos_token_id": 2})");
}

}  // namespace
}  // namespace ft::train
