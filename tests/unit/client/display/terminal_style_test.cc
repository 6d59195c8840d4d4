#include "client/lib/display/terminal_style.h"

#include "client/lib/format/job_format.h"
#include "client/lib/format/text_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ft::client {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(TerminalStyleTest, ColourOnlyOnATerminalWithoutNoColor) {
  EXPECT_TRUE(ShouldColor("auto", true, false, "xterm-256color"));
  EXPECT_FALSE(ShouldColor("auto", false, false, "xterm"));  // a pipe
  EXPECT_FALSE(ShouldColor("auto", true, true, "xterm"));    // NO_COLOR
  EXPECT_FALSE(ShouldColor("auto", true, false, "dumb"));
  EXPECT_TRUE(ShouldColor("always", false, true, "dumb"));
  EXPECT_FALSE(ShouldColor("never", true, false, "xterm"));
}

TEST(TerminalStyleTest, PaletteAndStates) {
  EXPECT_EQ(Palette(false).State(ft::v1::FAILED), "FAILED");
  EXPECT_EQ(Palette(true).State(ft::v1::FAILED), "\033[31mFAILED\033[0m");
  EXPECT_EQ(Palette(true).State(ft::v1::SUCCEEDED), "\033[32mSUCCEEDED\033[0m");
  EXPECT_EQ(Palette(true).Paint(Color::kNone, "x"), "x");
}

TEST(TerminalStyleTest, VisibleWidthSkipsEscapesAndCountsCharacters) {
  EXPECT_EQ(VisibleWidth("\033[32mSUCCEEDED\033[0m"), 9u);
  EXPECT_EQ(VisibleWidth("\u2581\u2582x"), 3u);
  EXPECT_EQ(VisibleWidth(""), 0u);
}

TEST(TerminalStyleTest, ColouredTableStaysAligned) {
  std::vector<ft::v1::Job> jobs(2);
  jobs[0].set_id("job-10");
  jobs[0].set_state(ft::v1::SUCCEEDED);
  jobs[0].mutable_spec()->set_model("m");
  jobs[1].set_id("job-9");
  jobs[1].set_state(ft::v1::FAILED);
  jobs[1].mutable_spec()->set_model("m");
  const std::string plain = FormatJobTable(jobs, absl::Now());
  const std::string coloured = FormatJobTable(jobs, absl::Now(), Palette(true));
  EXPECT_THAT(plain, Not(HasSubstr("\033[")));
  EXPECT_THAT(coloured, HasSubstr("\033[31mFAILED\033[0m"));
  // Stripped of its escapes, the coloured table is the plain one.
  std::string stripped = coloured;
  for (size_t at; (at = stripped.find('\033')) != std::string::npos;) {
    stripped.erase(at, stripped.find('m', at) - at + 1);
  }
  EXPECT_EQ(stripped, plain);
}

}  // namespace
}  // namespace ft::client
