// Exact gradient accumulation through the whole service: SGD with micro-batch 2 x 4 steps ends
// with the parameters of micro-batch 8 x 1 step (same seed, same examples, same order).
#include "ftd_process.h"
#include "gtest/gtest.h"
#include "safetensors_reader.h"

namespace ft::testing {
namespace {

TEST(AccumulationServiceTest, MicroBatch2x4EqualsBatch8x1WithSgd) {
  TempDir dir;
  const std::string csv = dir.Path("toy.csv");
  WriteToyCsv(csv, 120, 5);
  FtdProcess ftd(FtdProcessOptions{dir.Path("home")});  // workers with one intra-op thread
  ftd.Start();

  auto run = [&](uint32_t micro, uint32_t accumulation, double lr) {
    ft::v1::JobSpec spec = TinySpec(csv, 4);
    spec.set_optimizer("sgd");
    spec.set_learning_rate(lr);
    spec.set_lr_scheduler("constant");
    spec.set_micro_batch_size(micro);
    spec.set_accumulation_steps(accumulation);
    ft::v1::SubmitJobResponse response;
    EXPECT_TRUE(Submit(ftd, spec, "", &response).ok());
    const ft::v1::Job job = WaitFor(ftd, response.job().id(), [](const ft::v1::Job& j) {
      return j.state() == ft::v1::SUCCEEDED || j.state() == ft::v1::FAILED;
    });
    EXPECT_EQ(job.state(), ft::v1::SUCCEEDED) << job.error();
    return ReadSafetensors(job.output_dir() + "/model.safetensors");
  };
  // A step's float32 rounding difference feeds the next step's gradient in proportion to the
  // learning rate; 0.05 moves every tensor and keeps that drift below one step's rounding.
  const auto accumulated = run(2, 4, 0.05);
  const auto batched = run(8, 1, 0.05);
  const auto other_lr = run(8, 1, 0.1);
  ASSERT_FALSE(batched.empty());
  const double difference = MaxRelativeDifference(accumulated, batched);
  EXPECT_LE(difference, 1e-6) << "accumulated and batched parameters differ";
  // The comparison can fail: a different update gives clearly different parameters.
  EXPECT_GT(MaxRelativeDifference(other_lr, batched), 1e-4);
}

}  // namespace
}  // namespace ft::testing
