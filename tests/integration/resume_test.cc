// kill -9 of ftd, or of the job's worker, while a job trains: the job runs again as attempt 2 in
// the same output folder (after ftd's restart on the same home, or on the restarted worker),
// resumes from its last checkpoint instead of step 1, and ends with the same model.safetensors
// bytes as the same spec run without interruption.
#include <signal.h>

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/support/ftd_process.h"

namespace ft::testing {
namespace {

// 52 rows, a quarter held out: 39 training examples in windows of 4 x 2 = 8, so 5 optimizer steps
// per epoch (the last window has 7) and a checkpoint at the end of each epoch. 20 epochs: 100
// steps, of which the kill comes after 20 and before the last (the worker is held still at it).
ft::v1::JobSpec LongSpec(TempDir& dir) {
  const std::string csv = dir.Path("toy.csv");
  WriteToyCsv(csv, 52, 9);
  ft::v1::JobSpec spec = TinySpec(csv, 100);
  spec.set_epochs(20);
  spec.set_checkpoint_every_steps(5);
  return spec;
}

// Submits `spec` and returns its id once it has trained 20 steps, with its worker (the one local
// worker) stopped: the caller's kill then meets a running job.
std::string SubmitAndHoldAtStep20(FtdProcess& ftd, const ft::v1::JobSpec& spec) {
  const std::vector<pid_t> workers = ftd.ChildPids();
  EXPECT_EQ(workers.size(), 1u);
  ft::v1::SubmitJobResponse response;
  EXPECT_TRUE(Submit(ftd, spec, "killed", &response).ok());
  const std::string id = response.job().id();
  const ft::v1::Job job = WaitWithWorkerHeld(
      ftd, workers.at(0), id, [](const ft::v1::Job& j) { return j.progress().step() >= 20; });
  EXPECT_EQ(job.state(), ft::v1::RUNNING) << "the job must still run at the kill";
  return id;
}

// The interrupted job `id` ends as attempt 2, resumed from a checkpoint, with the parameters of
// the same spec run without interruption (in the same daemon, into its own output folder).
void ExpectResumedBitIdentical(FtdProcess& ftd, const std::string& id,
                               const ft::v1::JobSpec& spec) {
  const ft::v1::Job resumed = WaitFor(ftd, id, IsFinished);
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
  const auto result = nlohmann::json::parse(ReadFileBytes(resumed.output_dir() + "/result.json"));
  EXPECT_GE(result["resumed_from_step"].get<int64_t>(), 5);
  EXPECT_EQ(result["steps"], 100);

  ExpectSameModelAsUninterruptedRun(ftd, resumed, spec);
}

TEST(ResumeTest, JobOfKilledDaemonResumesFromItsCheckpointBitIdentical) {
  TempDir dir;
  const ft::v1::JobSpec spec = LongSpec(dir);
  FtdProcessOptions options;
  options.home = dir.Path("home");
  std::string id;
  {
    FtdProcess ftd(options);
    ftd.Start();
    id = SubmitAndHoldAtStep20(ftd, spec);
    ftd.Kill(SIGKILL);  // its (stopped) worker dies with it
  }
  FtdProcess ftd(options);
  ftd.Start();
  ExpectResumedBitIdentical(ftd, id, spec);
}

TEST(ResumeTest, JobOfKilledWorkerResumesFromItsCheckpointBitIdentical) {
  TempDir dir;
  const ft::v1::JobSpec spec = LongSpec(dir);
  FtdProcessOptions options;
  options.home = dir.Path("home");
  FtdProcess ftd(options);
  ftd.Start();
  const std::vector<pid_t> workers = ftd.ChildPids();
  ASSERT_EQ(workers.size(), 1u);
  const std::string id = SubmitAndHoldAtStep20(ftd, spec);
  kill(workers[0], SIGKILL);  // ftd re-queues the job and restarts the worker
  ExpectResumedBitIdentical(ftd, id, spec);
  bool requeued = false;
  for (const ft::v1::JobEvent& event : WatchAll(ftd, id)) {
    requeued = requeued || (event.has_state_change() && event.state_change().to() == ft::v1::QUEUED &&
                            event.state_change().reason().find("signal 9") != std::string::npos);
  }
  EXPECT_TRUE(requeued) << "no QUEUED event naming the worker's signal";
}

}  // namespace
}  // namespace ft::testing
