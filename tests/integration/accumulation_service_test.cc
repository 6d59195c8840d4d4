// Exact gradient accumulation through the whole service: SGD with micro-batch 2 x 4 steps ends
// with the parameters of micro-batch 8 x 1 step (same seed, same examples, same order).
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/support/ftd_process.h"
#include "tests/support/safetensors_reader.h"

namespace ft::testing {
namespace {

// Eight reviews of the same length (the byte-level tokenizer gives each 19 tokens), so that a
// window's rows, which the worker orders longest first, stay in the shuffle's order.
const std::vector<std::string> kRows = {"the movie was great,1", "the movie was awful,0",
                                        "the movie was loved,1", "the movie was bland,0",
                                        "the movie was funny,1", "the movie was hated,0",
                                        "the movie was smart,1", "the movie was messy,0"};

std::string WriteCsv(const TempDir& dir, const std::string& name, std::vector<std::string> rows) {
  std::ofstream out(dir.Path(name));
  out << "text,label\n";
  for (const std::string& row : rows) out << row << "\n";
  return dir.Path(name);
}

// float32 rounding of the batched run, measured as the batched run on the same rows in reverse
// file order: every step sees the same eight examples in another order (the same mathematics,
// other summation orders). Through the 4 steps it carries what the later steps make of one step's
// rounding at this learning rate, which is what the accumulated run's rounding goes through too.
// Accumulated against batched stayed within this factor of it in accumulation_test (the same
// comparison on gradients, over 40 seeds: at most 2.9x).
constexpr double kRoundingFactor = 4.0;
// The bar where the rounding measured is smaller: max |a - b| <= 1e-6 * max |b| per tensor.
constexpr double kTolerance = 1e-6;

TEST(AccumulationServiceTest, MicroBatch2x4EqualsBatch8x1WithSgd) {
  TempDir dir;
  const std::string csv = WriteCsv(dir, "train.csv", kRows);
  const std::string reversed_csv =
      WriteCsv(dir, "train_reversed.csv", std::vector<std::string>(kRows.rbegin(), kRows.rend()));
  FtdProcess ftd(FtdProcessOptions{dir.Path("home")});  // workers with one intra-op thread
  ftd.Start();

  // 4 epochs of the 8 rows (a validation file of their own, so none is held out): each step's
  // window is the whole training set.
  auto run = [&](const std::string& train, uint32_t micro, uint32_t accumulation, double lr) {
    ft::v1::JobSpec spec = TinySpec(train, 4);
    spec.mutable_dataset()->set_validation(csv);
    spec.set_epochs(4);
    spec.set_optimizer("sgd");
    spec.set_learning_rate(lr);
    spec.set_lr_scheduler("constant");
    spec.set_micro_batch_size(micro);
    spec.set_accumulation_steps(accumulation);
    ft::v1::SubmitJobResponse response;
    EXPECT_TRUE(Submit(ftd, spec, "", &response).ok());
    const ft::v1::Job job = WaitFor(ftd, response.job().id(), IsFinished);
    EXPECT_EQ(job.state(), ft::v1::SUCCEEDED) << job.error();
    EXPECT_EQ(job.progress().step(), 4u);
    return ReadSafetensors(job.output_dir() + "/model.safetensors");
  };
  constexpr double kLr = 0.5;
  const auto accumulated = run(csv, 2, 4, kLr);
  const auto batched = run(csv, 8, 1, kLr);
  const auto batched_reversed = run(reversed_csv, 8, 1, kLr);
  const auto other_lr = run(csv, 8, 1, kLr / 2);
  ASSERT_FALSE(batched.empty());
  const double noise = MaxRelativeDifference(batched_reversed, batched);
  const double difference = MaxRelativeDifference(accumulated, batched);
  EXPECT_LE(difference, std::max(kTolerance, kRoundingFactor * noise))
      << "accumulated and batched parameters differ (row-order rounding " << noise << ")";
  // The comparison can fail: rounding stays far below what a different update gives (a
  // mis-scaled accumulation moves the parameters like another learning rate).
  const double other_update = MaxRelativeDifference(other_lr, batched);
  // The figures for the report (ctest -V shows them).
  std::printf("accumulated vs batched %.3g, row-order rounding %.3g, other learning rate %.3g\n",
              difference, noise, other_update);
  EXPECT_GT(other_update, 1e-3);
  EXPECT_LT(kRoundingFactor * noise, other_update / 100) << "rounding " << noise;
}

}  // namespace
}  // namespace ft::testing
