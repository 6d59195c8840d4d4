// kill -9 of ftd while a job trains: after a restart on the same home the job runs again as
// attempt 2 in the same output folder, resumes from its last checkpoint instead of step 1, and
// ends with the same model.safetensors bytes as the same spec run without interruption.
#include <signal.h>

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>

#include "ftd_process.h"
#include "gtest/gtest.h"

namespace ft::testing {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

bool Finished(const ft::v1::Job& job) {
  return job.state() == ft::v1::SUCCEEDED || job.state() == ft::v1::FAILED ||
         job.state() == ft::v1::CANCELLED;
}

TEST(ResumeTest, KilledJobResumesFromItsCheckpointBitIdentical) {
  TempDir dir;
  const std::string csv = dir.Path("toy.csv");
  // 52 rows, a quarter held out: 39 training examples in windows of 4 x 2 = 8, so 5 optimizer
  // steps per epoch (the last window has 7) and a checkpoint at the end of each epoch (the
  // default cadence: JobSpec has no checkpoint field). 20 epochs: 100 steps of ~20 ms, so that
  // the job still runs when the poll below sees step 20.
  WriteToyCsv(csv, 52, 9);
  ft::v1::JobSpec spec = TinySpec(csv, 100);
  spec.set_epochs(20);
  FtdProcessOptions options;
  options.home = dir.Path("home");

  std::string id;
  {
    FtdProcess ftd(options);
    ftd.Start();
    ft::v1::SubmitJobResponse response;
    ASSERT_TRUE(Submit(ftd, spec, "killed", &response).ok());
    id = response.job().id();
    const ft::v1::Job job = WaitFor(
        ftd, id, [](const ft::v1::Job& j) { return j.progress().step() >= 20 || Finished(j); });
    ASSERT_EQ(job.state(), ft::v1::RUNNING) << "the job must still run at the kill";
    ASSERT_LT(job.progress().step(), 100u);
    ftd.Kill(SIGKILL);  // its worker dies with it
  }

  FtdProcess ftd(options);
  ftd.Start();
  const ft::v1::Job resumed = WaitFor(ftd, id, Finished);
  ASSERT_EQ(resumed.state(), ft::v1::SUCCEEDED) << resumed.error();
  EXPECT_EQ(resumed.attempt(), 2u);

  bool resumed_log = false;
  uint64_t first_step = 0;
  for (const ft::v1::JobEvent& event : WatchAll(ftd, id)) {
    if (event.attempt() != 2) continue;
    if (event.has_log() &&
        event.log().message().find("resumed from checkpoint at step") != std::string::npos) {
      resumed_log = true;
    }
    if (event.has_progress() && first_step == 0) first_step = event.progress().step();
  }
  EXPECT_TRUE(resumed_log) << "attempt 2 did not resume from a checkpoint";
  EXPECT_GT(first_step, 1u) << "attempt 2 started over";
  const auto result = nlohmann::json::parse(ReadAll(resumed.output_dir() + "/result.json"));
  EXPECT_GE(result["resumed_from_step"].get<int64_t>(), 5);
  EXPECT_EQ(result["steps"], 100);

  // The same spec without interruption, in the same daemon, into its own output folder.
  ft::v1::SubmitJobResponse response;
  ASSERT_TRUE(Submit(ftd, spec, "whole", &response).ok());
  const ft::v1::Job whole = WaitFor(ftd, response.job().id(), Finished);
  ASSERT_EQ(whole.state(), ft::v1::SUCCEEDED) << whole.error();
  ASSERT_NE(whole.output_dir(), resumed.output_dir());
  const std::string expected = ReadAll(whole.output_dir() + "/model.safetensors");
  ASSERT_FALSE(expected.empty());
  EXPECT_TRUE(ReadAll(resumed.output_dir() + "/model.safetensors") == expected)
      << "the resumed job's parameters differ from the uninterrupted job's";
}

}  // namespace
}  // namespace ft::testing
