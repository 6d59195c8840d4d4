// Label smoothing of the training loss (train_step.h SummedCrossEntropy): against its definition
// here, and against PyTorch's torch.nn.CrossEntropyLoss(label_smoothing=) by
// label_smoothing_reference.py, which runs LabelSmoothingDump below.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <vector>

#include "worker/train/train_step.h"

namespace ft {
namespace {

constexpr int64_t kRows = 6;
constexpr int64_t kClasses = 5;
const std::vector<double> kSmoothings = {0.0, 0.1, 0.3, 0.9};

torch::Tensor Logits() {
  torch::manual_seed(3);
  return (torch::randn({kRows, kClasses}) * 3).requires_grad_(true);
}

torch::Tensor Labels() { return torch::tensor({0, 4, 2, 2, 1, 3}, torch::kInt64); }

// (1 - s) * -log p(true) + s * mean over classes of -log p(class), summed over rows, in float64.
double DefinitionLoss(const torch::Tensor& logits, const torch::Tensor& labels, double s) {
  const torch::Tensor log_p = torch::log_softmax(logits.detach().to(torch::kFloat64), -1);
  double total = 0;
  for (int64_t row = 0; row < kRows; ++row) {
    const double true_class = -log_p[row][labels[row].item<int64_t>()].item<double>();
    const double uniform = -log_p[row].mean().item<double>();
    total += (1 - s) * true_class + s * uniform;
  }
  return total;
}

double SummedCrossEntropyValue(const torch::Tensor& logits, double s) {
  return train::SummedCrossEntropy(logits, Labels(), s).item<double>();
}

TEST(LabelSmoothingTest, MatchesItsDefinition) {
  const torch::Tensor logits = Logits();
  for (double s : kSmoothings) {
    const double ours = SummedCrossEntropyValue(logits, s);
    EXPECT_NEAR(ours, DefinitionLoss(logits, Labels(), s), 1e-5 * std::abs(ours)) << "s = " << s;
  }
  // Smoothing changes the loss, so the comparison above can tell smoothed from plain.
  EXPECT_GT(std::abs(SummedCrossEntropyValue(logits, 0.1) - SummedCrossEntropyValue(logits, 0.0)),
            1e-2);
}

// Writes logits, labels, losses and gradients for label_smoothing_reference.py. Runs only when
// that script asks for it (DISABLED_: not a test of its own; the script runs it with
// --gtest_also_run_disabled_tests).
TEST(DISABLED_LabelSmoothingDump, WritesLogitsLossesAndGradients) {
  const char* dir_env = std::getenv("FT_LOSS_DUMP_DIR");
  if (dir_env == nullptr) GTEST_SKIP() << "run by label_smoothing_reference.py";
  std::ofstream out(std::filesystem::path(dir_env) / "label_smoothing.txt");
  out.precision(17);
  const torch::Tensor logits = Logits();
  out << kRows << " " << kClasses << "\n";
  const torch::Tensor flat = logits.detach().contiguous().view(-1);
  for (int64_t i = 0; i < flat.numel(); ++i) out << flat[i].item<float>() << " ";
  out << "\n";
  const torch::Tensor labels = Labels();
  for (int64_t i = 0; i < kRows; ++i) out << labels[i].item<int64_t>() << " ";
  out << "\n";
  for (double s : kSmoothings) {
    torch::Tensor leaf = logits.detach().clone().requires_grad_(true);
    const torch::Tensor loss = train::SummedCrossEntropy(leaf, labels, s);
    loss.backward();
    out << s << " " << loss.item<float>();
    const torch::Tensor grad = leaf.grad().contiguous().view(-1);
    for (int64_t i = 0; i < grad.numel(); ++i) out << " " << grad[i].item<float>();
    out << "\n";
  }
}

}  // namespace
}  // namespace ft
