// `ftctl plot` against the real ftd and ftworker: the SVG of finished jobs holds one polyline per
// panel per job with one point per progress report (loss) and per validation (accuracy), read
// back by Python's XML parser; the same from the events.jsonl ftd left in the job's folder.
#include <filesystem>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/ftd_process.h"
#include "tests/support/prerequisite.h"
#include "tests/support/run_command.h"
#include "tests/support/svg_check.h"

namespace ft::testing {
namespace {

using ::testing::HasSubstr;

// Runs the real ftctl.
CommandResult Ftctl(std::vector<std::string> args) {
  args.insert(args.begin(), BinaryPath("ftctl"));
  return RunCommand(args);
}

class PlotTest : public ::testing::Test {
 protected:
  void SetUp() override {
    csv_ = dir_.Path("toy.csv");
    WriteToyCsv(csv_, 96, 3);
    ftd_.Start();
  }

  // Runs a tiny job to its end; returns it with its event counts.
  struct Finished {
    ft::v1::Job job;
    int progress = 0;
    int validations = 0;
  };
  Finished RunJob(uint32_t micro_batch, uint32_t accumulation, uint32_t steps) {
    ft::v1::JobSpec spec = TinySpec(csv_, steps);
    spec.set_micro_batch_size(micro_batch);
    spec.set_accumulation_steps(accumulation);
    spec.set_eval_every_steps(2);
    spec.set_max_eval_examples(16);
    ft::v1::SubmitJobResponse submitted;
    EXPECT_TRUE(Submit(ftd_, spec, "", &submitted).ok());
    Finished finished;
    for (const ft::v1::JobEvent& event : WatchAll(ftd_, submitted.job().id())) {
      if (event.has_progress()) ++finished.progress;
      if (event.has_evaluation() && event.evaluation().split() == "validation") {
        ++finished.validations;
      }
    }
    finished.job = GetJob(ftd_, submitted.job().id());
    EXPECT_EQ(finished.job.state(), ft::v1::SUCCEEDED) << finished.job.error();
    return finished;
  }

  TempDir dir_;
  std::string csv_;
  FtdProcess ftd_{FtdProcessOptions{dir_.Path("home"), 1, {}}};
};

#define SKIP_WITHOUT_PYTHON(check) \
  if (!(check).ran) FT_SKIP_PREREQUISITE_MISSING() << "no /usr/bin/python3 to parse the SVG with"

TEST_F(PlotTest, TwoJobsOnePolylinePerPanelPerJobWithEveryPoint) {
  const Finished a = RunJob(4, 1, 6);
  const Finished b = RunJob(2, 2, 4);
  ASSERT_EQ(a.progress, 6);  // log_every_steps 1
  ASSERT_EQ(b.progress, 4);
  ASSERT_GE(a.validations, 3);  // every 2 steps (and maybe at the end of the epoch)

  const std::string out = dir_.Path("two.svg");
  const CommandResult run =
      Ftctl({"--server", ftd_.address(), "plot", a.job.id(), b.job.id(), "--out", out});
  ASSERT_EQ(run.exit_status, 0) << run.output;
  EXPECT_EQ(run.output,
            "wrote " + out + ": 2 jobs, " +
                std::to_string(a.progress + a.validations + b.progress + b.validations) +
                " points\n");
  const SvgCheck check = CheckSvgFile(out);
  SKIP_WITHOUT_PYTHON(check);
  ASSERT_EQ(check.exit_status, 0) << check.output;
  // "series PANEL JOB POINTS": panel 0 the loss, panel 1 the validation accuracy.
  EXPECT_THAT(check.output, HasSubstr("series 0 0 " + std::to_string(a.progress) + "\nseries 0 1 " +
                                      std::to_string(b.progress) + "\nseries 1 0 " +
                                      std::to_string(a.validations) + "\nseries 1 1 " +
                                      std::to_string(b.validations) + "\n"));
  EXPECT_THAT(check.output, HasSubstr("legend " + a.job.id() + " mb 4 x acc 1 \u2014 val "));
  EXPECT_THAT(check.output, HasSubstr("legend " + b.job.id() + " mb 2 x acc 2 \u2014 val "));
  EXPECT_THAT(check.output, ::testing::Not(HasSubstr("bad-number")));
}

TEST_F(PlotTest, FromTheEventsFileWithoutFtd) {
  const Finished a = RunJob(4, 2, 4);
  const std::string events = a.job.output_dir() + "/events.jsonl";
  ASSERT_TRUE(std::filesystem::exists(events));
  ftd_.KillGroup();  // offline: nothing to ask

  const std::string out = dir_.Path("offline.svg");
  const CommandResult run = Ftctl({"--server", "127.0.0.1:1", "plot", "--from-events", events,
                                   "--x", "examples", "--out", out});
  ASSERT_EQ(run.exit_status, 0) << run.output;
  const SvgCheck check = CheckSvgFile(out);
  SKIP_WITHOUT_PYTHON(check);
  ASSERT_EQ(check.exit_status, 0) << check.output;
  EXPECT_THAT(check.output, HasSubstr("series 0 0 " + std::to_string(a.progress) + "\n"));
  EXPECT_THAT(check.output, HasSubstr("series 1 0 " + std::to_string(a.validations) + "\n"));
  // The batch shape comes from result.json beside the log.
  EXPECT_THAT(check.output, HasSubstr("legend " + a.job.id() + " mb 4 x acc 2 \u2014 val "));
}

TEST_F(PlotTest, UnknownJobIsNamedAndNothingIsWritten) {
  const std::string out = dir_.Path("none.svg");
  const CommandResult run = Ftctl({"--server", ftd_.address(), "plot", "job-404", "--out", out});
  EXPECT_EQ(run.exit_status, 3) << run.output;
  EXPECT_THAT(run.output, HasSubstr("ftctl: plot job-404: NOT_FOUND: no job with id 'job-404'"));
  EXPECT_FALSE(std::filesystem::exists(out));
}

}  // namespace
}  // namespace ft::testing
