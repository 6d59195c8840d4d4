// SIGTERM while a job trains, to ftd or to its worker alone: the worker stops within a
// micro-batch, writes a checkpoint of its last finished step, delivers its last events and exits
// by itself (ftd stops its workers before its API, and SIGKILLs one only after a 5 s grace). The
// job resumes from exactly that checkpoint — when ftd starts again, or at once on the restarted
// worker — and ends with the parameters of an uninterrupted run. The spec checkpoints only at the
// end, so the one to resume from can only be the shutdown's.
#include <signal.h>

#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "tests/support/ftd_process.h"

namespace ft::testing {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// 1,400 rows, a quarter held out: 132 steps of 4 x 2 in the one epoch, of which 100 run. No
// periodic checkpoint (every 1,000 steps) and no epoch end before the last step.
ft::v1::JobSpec OneLongEpoch(TempDir& dir) {
  const std::string csv = dir.Path("toy.csv");
  WriteToyCsv(csv, 1400, 4);
  ft::v1::JobSpec spec = TinySpec(csv, 100);
  spec.set_checkpoint_every_steps(1000);
  return spec;
}

// Submits `spec` and returns its id once it has trained 10 steps, with `worker` stopped
// (WaitWithWorkerHeld): the caller sends SIGCONT when the SIGTERM is on its way.
std::string SubmitAndHoldAtStep10(FtdProcess& ftd, pid_t worker, const ft::v1::JobSpec& spec) {
  ft::v1::SubmitJobResponse response;
  EXPECT_TRUE(Submit(ftd, spec, "stopped", &response).ok());
  const std::string id = response.job().id();
  const ft::v1::Job job = WaitWithWorkerHeld(
      ftd, worker, id, [](const ft::v1::Job& j) { return j.progress().step() >= 10; });
  EXPECT_EQ(job.state(), ft::v1::RUNNING) << "the job must still run at the SIGTERM";
  return id;
}

uint64_t StepIn(const std::string& message, const std::string& prefix) {
  const size_t at = message.find(prefix);
  return at == std::string::npos ? 0 : std::stoull(message.substr(at + prefix.size()));
}

// Attempt 1 wrote a checkpoint at its last reported step and attempt 2 resumed from it; the model
// equals an uninterrupted run's.
void ExpectResumedFromShutdownCheckpoint(FtdProcess& ftd, const std::string& id,
                                         const ft::v1::JobSpec& spec) {
  const ft::v1::Job job = WaitFor(ftd, id, IsFinished);
  ASSERT_EQ(job.state(), ft::v1::SUCCEEDED) << job.error();
  EXPECT_EQ(job.attempt(), 2u);
  uint64_t last_step = 0;        // attempt 1's last progress report
  uint64_t checkpoint_step = 0;  // attempt 1's checkpoint
  uint64_t resumed_step = 0;     // attempt 2's resume
  for (const ft::v1::JobEvent& event : WatchAll(ftd, id)) {
    if (event.attempt() == 1 && event.has_progress()) last_step = event.progress().step();
    if (event.attempt() == 1 && event.has_checkpoint_saved()) {
      checkpoint_step = event.checkpoint_saved().step();
    }
    if (!event.has_log()) continue;
    const std::string& message = event.log().message();
    if (event.attempt() == 2) {
      resumed_step = std::max(resumed_step, StepIn(message, "resumed from checkpoint at step "));
    }
  }
  std::printf("stopped at step %llu, checkpointed at %llu, resumed at %llu\n",
              static_cast<unsigned long long>(last_step),
              static_cast<unsigned long long>(checkpoint_step),
              static_cast<unsigned long long>(resumed_step));
  EXPECT_GE(last_step, 10u);
  EXPECT_LT(last_step, 100u);
  EXPECT_EQ(checkpoint_step, last_step) << "no checkpoint of the last step before the shutdown";
  EXPECT_EQ(resumed_step, last_step) << "attempt 2 did not resume from the shutdown's checkpoint";
  const auto result = nlohmann::json::parse(ReadFileBytes(job.output_dir() + "/result.json"));
  EXPECT_EQ(result["steps"], 100);

  ExpectSameModelAsUninterruptedRun(ftd, job, spec);
}

TEST(GracefulShutdownTest, SigtermToFtdCheckpointsTheRunningJobWhichResumesAfterRestart) {
  TempDir dir;
  const ft::v1::JobSpec spec = OneLongEpoch(dir);
  FtdProcessOptions options;
  options.home = dir.Path("home");
  std::string id;
  {
    FtdProcess ftd(options);
    ftd.Start();
    const std::vector<pid_t> workers = ftd.ChildPids();
    ASSERT_EQ(workers.size(), 1u);
    id = SubmitAndHoldAtStep10(ftd, workers[0], spec);
    const auto start = std::chrono::steady_clock::now();
    // ftd relays the SIGTERM to its worker, which must be running to take it; the job has 90
    // steps left, far more than run before the signal arrives.
    kill(workers[0], SIGCONT);
    ftd.Kill(SIGTERM);  // returns once ftd has exited
    std::printf("ftd shut down %.2f s after SIGTERM with a job running\n", SecondsSince(start));
  }
  FtdProcess ftd(options);
  ftd.Start();
  ExpectResumedFromShutdownCheckpoint(ftd, id, spec);
}

TEST(GracefulShutdownTest, SigtermToTheWorkerCheckpointsItsJobWhichResumesOnTheNextWorker) {
  TempDir dir;
  const ft::v1::JobSpec spec = OneLongEpoch(dir);
  FtdProcessOptions options;
  options.home = dir.Path("home");
  FtdProcess ftd(options);
  ftd.Start();
  const std::vector<pid_t> workers = ftd.ChildPids();
  ASSERT_EQ(workers.size(), 1u);
  const std::string id = SubmitAndHoldAtStep10(ftd, workers[0], spec);
  const auto start = std::chrono::steady_clock::now();
  kill(workers[0], SIGTERM);  // pending while stopped, taken as soon as it runs
  kill(workers[0], SIGCONT);
  // ftd reaps it within 50 ms of its exit.
  while (kill(workers[0], 0) == 0 && SecondsSince(start) < 30) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::printf("ftworker exited %.2f s after SIGTERM with a job running\n", SecondsSince(start));
  ExpectResumedFromShutdownCheckpoint(ftd, id, spec);
  bool requeued = false;
  for (const ft::v1::JobEvent& event : WatchAll(ftd, id)) {
    requeued = requeued || (event.has_state_change() &&
                            event.state_change().to() == ft::v1::QUEUED &&
                            event.state_change().reason().find("exited with code 0") !=
                                std::string::npos);
  }
  EXPECT_TRUE(requeued) << "no QUEUED event saying that the worker exited by itself";
}

}  // namespace
}  // namespace ft::testing
