#include "client/lib/display/watch_display.h"

#include <sstream>

#include "client/lib/display/sparkline.h"
#include "gtest/gtest.h"

namespace ft::client {
namespace {

ft::v1::JobEvent StateEvent(uint64_t seq, ft::v1::JobState from, ft::v1::JobState to) {
  ft::v1::JobEvent event;
  event.set_job_id("job-1");
  event.set_seq(seq);
  event.mutable_state_change()->set_from(from);
  event.mutable_state_change()->set_to(to);
  return event;
}

ft::v1::JobEvent ProgressEvent(uint64_t seq, uint64_t step) {
  ft::v1::JobEvent event;
  event.set_job_id("job-1");
  event.set_seq(seq);
  event.mutable_progress()->set_step(step);
  event.mutable_progress()->set_total_steps(10);
  event.mutable_progress()->set_loss(0.5);
  event.mutable_progress()->set_eta_seconds(3);
  return event;
}

ft::v1::JobEvent EvalEvent(uint64_t seq) {
  ft::v1::JobEvent event;
  event.set_job_id("job-1");
  event.set_seq(seq);
  event.mutable_evaluation()->set_split("validation");
  event.mutable_evaluation()->set_accuracy(0.75);
  event.mutable_evaluation()->set_examples(4);
  return event;
}

TEST(PlainDisplayTest, OneLinePerEvent) {
  std::ostringstream out;
  std::ostringstream err;
  std::unique_ptr<WatchDisplay> display = MakePlainDisplay(out);
  display->OnEvent(StateEvent(2, ft::v1::QUEUED, ft::v1::RUNNING));
  display->OnEvent(ProgressEvent(3, 5));
  display->Note(err, "ftctl: reconnecting");
  display->Close();
  EXPECT_EQ(out.str(),
            "[job-1 #2] state QUEUED -> RUNNING\n"
            "[job-1 #3] step 5/10 loss 0.5000 lr 0.00e+00 0.0 samples/s 0 tokens/s eta 3s\n");
  EXPECT_EQ(err.str(), "ftctl: reconnecting\n");
}

TEST(LiveDisplayTest, RedrawsTheBarInPlaceAndPrintsOtherEventsAboveIt) {
  std::ostringstream out;
  std::unique_ptr<WatchDisplay> display = MakeLiveDisplay(out, [] { return 100; });
  display->OnEvent(StateEvent(2, ft::v1::QUEUED, ft::v1::RUNNING));
  display->OnEvent(ProgressEvent(3, 5));
  display->OnEvent(ProgressEvent(4, 6));
  display->OnEvent(EvalEvent(5));
  display->Close();
  const std::string clear = "\r\033[K";
  // Compare the structure; the bar text itself is covered by progress_bar_test.
  std::string got = out.str();
  EXPECT_EQ(got.rfind("[job-1 #2] state QUEUED -> RUNNING\n" + clear + "step  5/10 [", 0), 0u)
      << got;
  EXPECT_NE(got.find(clear + "step  6/10 ["), std::string::npos) << got;
  EXPECT_NE(got.find(clear + "[job-1 #5] eval validation: accuracy 75.00%"), std::string::npos)
      << got;
  EXPECT_NE(got.find("(4 examples)\n" + clear + "step  6/10 ["), std::string::npos) << got;
  EXPECT_NE(got.find("val 75.00%"), std::string::npos) << got;
  EXPECT_EQ(got.back(), '\n');
  // No bar reaches the terminal's last column (100).
  for (size_t start = got.find(clear + "step"); start != std::string::npos;
       start = got.find(clear + "step", start + 1)) {
    const size_t end = got.find_first_of("\r\n", start + 1);
    EXPECT_LE(end - start - clear.size(), 99u) << got.substr(start, end - start);
  }
}

TEST(LiveDisplayTest, NotesClearTheBarFirst) {
  std::ostringstream out;
  std::unique_ptr<WatchDisplay> display = MakeLiveDisplay(out, [] { return 80; });
  display->OnEvent(ProgressEvent(3, 5));
  display->Note(out, "ftctl: lost the event stream");
  const std::string got = out.str();
  EXPECT_NE(got.find("\r\033[Kftctl: lost the event stream\n\r\033[Kstep  5/10"), std::string::npos)
      << got;
}

TEST(LiveDisplayTest, CloseWithoutBarPrintsNothing) {
  std::ostringstream out;
  std::unique_ptr<WatchDisplay> display = MakeLiveDisplay(out, [] { return 80; });
  display->OnEvent(StateEvent(1, ft::v1::JOB_STATE_UNSPECIFIED, ft::v1::QUEUED));
  display->Close();
  EXPECT_EQ(out.str(), "[job-1 #1] state QUEUED\n");
}

TEST(LiveDisplayTest, LineShowsASparklineOfTheLast30Losses) {
  std::ostringstream out;
  std::unique_ptr<WatchDisplay> display = MakeLiveDisplay(
      out, [] { return 200; }, SparkGlyphs::kUnicode);
  ft::v1::JobEvent event = ProgressEvent(3, 1);
  display->OnEvent(event);
  EXPECT_EQ(out.str().find("\u2584"), std::string::npos) << "one report is no trend: " << out.str();
  std::vector<double> losses = {0.5};
  for (int i = 2; i <= 40; ++i) {
    const double loss = 1.0 / i + (i % 3 == 0 ? 0.05 : 0.0);
    losses.push_back(loss);
    event.set_seq(event.seq() + 1);
    event.mutable_progress()->set_step(i);
    event.mutable_progress()->set_loss(loss);
    display->OnEvent(event);
  }
  display->Close();
  const std::string got = out.str();
  const std::string last_line = got.substr(got.rfind("\r\033[K"));
  const std::vector<double> last30(losses.end() - 30, losses.end());
  const std::string trend = RenderSparkline(last30, SparkGlyphs::kUnicode).text;
  EXPECT_NE(last_line.find("loss 0.0250 " + trend + " "), std::string::npos) << last_line;
}

TEST(LiveDisplayTest, AsciiSparklineByDefault) {
  std::ostringstream out;
  std::unique_ptr<WatchDisplay> display = MakeLiveDisplay(out, [] { return 200; });
  ft::v1::JobEvent event = ProgressEvent(3, 1);
  display->OnEvent(event);
  event.set_seq(4);
  event.mutable_progress()->set_loss(0.25);
  display->OnEvent(event);
  display->Close();
  EXPECT_NE(out.str().find("loss 0.2500 #_ "), std::string::npos) << out.str();
  for (unsigned char c : out.str()) EXPECT_LT(c, 0x80) << "ASCII only";
}

}  // namespace
}  // namespace ft::client
