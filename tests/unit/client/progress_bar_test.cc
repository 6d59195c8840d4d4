#include "lib/progress_bar.h"

#include "gtest/gtest.h"

namespace ft::client {
namespace {

ft::v1::TrainingProgress Progress(uint64_t step, uint64_t total) {
  ft::v1::TrainingProgress p;
  p.set_step(step);
  p.set_total_steps(total);
  p.set_loss(0.6931);
  p.set_samples_per_second(312.5);
  p.set_tokens_per_second(20480);
  p.set_eta_seconds(51);
  return p;
}

TEST(ProgressBarTest, WideTerminalGetsTheFullBar) {
  // 40 cells at most: 10 of them filled at 25%, then the arrow head.
  EXPECT_EQ(RenderProgressBar(Progress(50, 200), 0.812, 200),
            "step  50/200 [" + std::string(10, '=') + ">" + std::string(29, ' ') +
                "]  25% loss 0.6931 val 81.20% 312.5 samples/s 20480 tok/s eta 51s");
}

TEST(ProgressBarTest, EmptyAndFull) {
  EXPECT_EQ(RenderProgressBar(Progress(0, 10), std::nullopt, 200),
            "step  0/10 [>" + std::string(39, ' ') +
                "]   0% loss 0.6931 312.5 samples/s 20480 tok/s eta 51s");
  EXPECT_EQ(RenderProgressBar(Progress(10, 10), std::nullopt, 200),
            "step 10/10 [" + std::string(40, '=') +
                "] 100% loss 0.6931 312.5 samples/s 20480 tok/s eta 51s");
}

TEST(ProgressBarTest, BarFillsTheRoomLeft) {
  // 99 columns usable: "step  0/10 " (11) + "[" cells "]" + " " + tail (52) -> 33 cells.
  EXPECT_EQ(RenderProgressBar(Progress(0, 10), std::nullopt, 100),
            "step  0/10 [>" + std::string(32, ' ') +
                "]   0% loss 0.6931 312.5 samples/s 20480 tok/s eta 51s");
}

TEST(ProgressBarTest, BarShrinksToFitAndNeverReachesTheLastColumn) {
  for (int width : {200, 100, 80, 60, 40, 20, 5, 1, 0}) {
    const std::string line = RenderProgressBar(Progress(120, 200), 0.5, width);
    EXPECT_LE(static_cast<int>(line.size()), std::max(width - 1, 0)) << width << ": " << line;
  }
  const std::string narrow = RenderProgressBar(Progress(120, 200), std::nullopt, 80);
  EXPECT_EQ(narrow.size(), 79u) << narrow;
  EXPECT_NE(narrow.find("[======"), std::string::npos) << narrow;
}

TEST(ProgressBarTest, NoBarWhenTooNarrowOrTotalUnknown) {
  const std::string tight = RenderProgressBar(Progress(120, 200), std::nullopt, 70);
  EXPECT_EQ(tight.find('['), std::string::npos) << tight;
  EXPECT_EQ(tight.rfind("step 120/200  60% loss 0.6931", 0), 0u) << tight;

  const std::string unknown = RenderProgressBar(Progress(7, 0), std::nullopt, 120);
  EXPECT_EQ(unknown, "step 7 loss 0.6931 312.5 samples/s 20480 tok/s eta 51s");
}

TEST(ProgressBarTest, OvershootIsClamped) {
  const std::string line = RenderProgressBar(Progress(250, 200), std::nullopt, 120);
  EXPECT_NE(line.find("100%"), std::string::npos) << line;
}

}  // namespace
}  // namespace ft::client
