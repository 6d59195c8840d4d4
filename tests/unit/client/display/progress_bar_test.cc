#include "client/lib/display/progress_bar.h"

#include "client/lib/display/sparkline.h"
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

TEST(ProgressBarTest, LossTrendFollowsTheLossAndTheBarGetsTheRoomLeft) {
  const std::vector<double> losses = {0.9, 0.7, 0.8, 0.5};
  const std::string trend = RenderSparkline(losses, SparkGlyphs::kUnicode).text;
  EXPECT_EQ(RenderProgressBar(Progress(50, 200), 0.812, 200, losses, SparkGlyphs::kUnicode),
            "step  50/200 [" + std::string(10, '=') + ">" + std::string(29, ' ') +
                "]  25% loss 0.6931 " + trend + " val 81.20% 312.5 samples/s 20480 tok/s eta 51s");
  // Counted in columns, not bytes (each glyph is 3 bytes): 99 columns, 5 for the trend.
  EXPECT_EQ(RenderProgressBar(Progress(0, 10), std::nullopt, 100, losses, SparkGlyphs::kUnicode),
            "step  0/10 [>" + std::string(27, ' ') + "]   0% loss 0.6931 " + trend +
                " 312.5 samples/s 20480 tok/s eta 51s");
  EXPECT_EQ(RenderProgressBar(Progress(7, 0), std::nullopt, 120, losses, SparkGlyphs::kAscii),
            "step 7 loss 0.6931 " + RenderSparkline(losses, SparkGlyphs::kAscii).text +
                " 312.5 samples/s 20480 tok/s eta 51s");
}

// The newest n losses, drawn on their own scale.
std::string Newest(const std::vector<double>& losses, size_t n) {
  return RenderSparkline(std::vector<double>(losses.end() - n, losses.end()), SparkGlyphs::kAscii)
      .text;
}

TEST(ProgressBarTest, OnNarrowTerminalsTheTrendShortensThenTokensGoThenTheTrend) {
  std::vector<double> losses;
  for (int i = 0; i < 30; ++i) losses.push_back(1.0 / (1 + i % 7));
  // 120 columns: the whole text, 30 values, a bar of 9 (119 columns in all).
  const std::string wide = RenderProgressBar(Progress(120, 200), 0.5, 120, losses);
  EXPECT_EQ(wide, "step 120/200 [=====>   ]  60% loss 0.6931 " + Newest(losses, 30) +
                      " val 50.00% 312.5 samples/s 20480 tok/s eta 51s");
  // 100: no room for a bar of 5 next to the text and the trend: the trend takes the room.
  const std::string medium = RenderProgressBar(Progress(120, 200), 0.5, 100, losses);
  EXPECT_EQ(medium, "step 120/200  60% loss 0.6931 " + Newest(losses, 22) +
                        " val 50.00% 312.5 samples/s 20480 tok/s eta 51s");
  // 80: tokens/s make room for 14 values.
  const std::string narrow = RenderProgressBar(Progress(120, 200), 0.5, 80, losses);
  EXPECT_EQ(narrow, "step 120/200  60% loss 0.6931 " + Newest(losses, 14) +
                        " val 50.00% 312.5 samples/s eta 51s");
  // 60: not even 8 values fit: the line as without a trend.
  EXPECT_EQ(RenderProgressBar(Progress(120, 200), 0.5, 60, losses),
            RenderProgressBar(Progress(120, 200), 0.5, 60));
  for (int width : {200, 120, 100, 80, 70, 60, 20, 0}) {
    const std::string line = RenderProgressBar(Progress(120, 200), 0.5, width, losses);
    EXPECT_LE(static_cast<int>(line.size()), std::max(width - 1, 0)) << line;  // ASCII glyphs
  }
  // One loss is no trend.
  EXPECT_EQ(RenderProgressBar(Progress(120, 200), 0.5, 200, {0.7}),
            RenderProgressBar(Progress(120, 200), 0.5, 200));
}

}  // namespace
}  // namespace ft::client
