// LeaseReporter against a fake ftd: what reaches ftd, in what order, and how ftd's answers and
// failures become the trainer's stop signal. Waits poll with a 10 s deadline; the heartbeat
// interval is short so that the reporter's thread comes round often.
#include "worker/daemon/lease_reporter.h"

#include <atomic>
#include <chrono>
#include <functional>
#include <thread>

#include "gtest/gtest.h"
#include "tests/unit/worker/daemon/fake_worker_link.h"

namespace ft::worker {
namespace {

using std::chrono::milliseconds;

bool WaitFor(const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return condition();
}

train::ProgressReport Progress(int64_t step, std::vector<double> step_durations = {}) {
  train::ProgressReport report;
  report.step = step;
  report.loss = 0.5;
  report.step_durations = std::move(step_durations);
  return report;
}

class LeaseReporterTest : public ::testing::Test {
 protected:
  std::unique_ptr<LeaseReporter> Start(milliseconds heartbeat = milliseconds(10),
                                       milliseconds lease_timeout = milliseconds(60000)) {
    return std::make_unique<LeaseReporter>(&ftd_, "lease-1", "job-1", heartbeat, lease_timeout,
                                           &shutdown_);
  }

  FakeWorkerLink ftd_;
  std::atomic<bool> shutdown_{false};
};

TEST_F(LeaseReporterTest, DeliversEveryEventInOrderWithTheStepTimes) {
  auto reporter = Start();
  reporter->OnProgress(Progress(1, {0.25, 0.5}));
  reporter->OnLog("warning", "slow disk");
  reporter->OnEvaluation(train::EvalReport());
  reporter->OnCheckpoint(train::CheckpointReport());
  reporter->OnProgress(Progress(2, {0.75}));
  EXPECT_TRUE(reporter->Flush());

  const std::vector<ft::v1::JobEvent> events = ftd_.events();
  ASSERT_EQ(events.size(), 5u);
  EXPECT_EQ(events[0].progress().step(), 1u);
  EXPECT_EQ(events[1].log().message(), "slow disk");
  EXPECT_TRUE(events[2].has_evaluation());
  EXPECT_TRUE(events[3].has_checkpoint_saved());
  EXPECT_EQ(events[4].progress().step(), 2u);
  std::vector<double> step_seconds;
  for (const auto& report : ftd_.reports()) {
    EXPECT_EQ(report.lease_id(), "lease-1");
    EXPECT_EQ(report.job_id(), "job-1");
    step_seconds.insert(step_seconds.end(), report.step_seconds().begin(),
                        report.step_seconds().end());
  }
  EXPECT_EQ(step_seconds, (std::vector<double>{0.25, 0.5, 0.75}));
  EXPECT_EQ(reporter->stop_reason(), LeaseReporter::Stop::kNone);
  EXPECT_FALSE(reporter->StopRequested());
}

TEST_F(LeaseReporterTest, HeartbeatsWhileThereIsNothingToSend) {
  auto reporter = Start();
  ASSERT_TRUE(WaitFor([&] { return ftd_.heartbeats().size() >= 2; }));
  EXPECT_TRUE(reporter->Flush());
  EXPECT_TRUE(ftd_.reports().empty());
  EXPECT_EQ(ftd_.heartbeats()[0].lease_id(), "lease-1");
}

TEST_F(LeaseReporterTest, ACancelFromFtdStopsTraining) {
  auto reporter = Start();
  ftd_.RequestCancel();
  ASSERT_TRUE(WaitFor([&] { return reporter->StopRequested(); }));
  EXPECT_EQ(reporter->stop_reason(), LeaseReporter::Stop::kCancelRequested);
  EXPECT_FALSE(reporter->CheckpointBeforeStopping());
  // A cancelled job's last reports still reach ftd.
  reporter->OnLog("info", "stopping");
  EXPECT_TRUE(reporter->Flush());
  ASSERT_EQ(ftd_.events().size(), 1u);
}

TEST_F(LeaseReporterTest, ALeaseFtdNoLongerKnowsIsAbandoned) {
  auto reporter = Start();
  ftd_.LoseLease();
  ASSERT_TRUE(WaitFor([&] { return reporter->StopRequested(); }));
  EXPECT_EQ(reporter->stop_reason(), LeaseReporter::Stop::kLeaseLost);
  reporter->OnLog("info", "not delivered");
  EXPECT_FALSE(reporter->Flush()) << "nothing more is accepted once the lease is lost";
  EXPECT_TRUE(ftd_.events().empty());
}

TEST_F(LeaseReporterTest, TransientFailuresAreRetriedWithoutLosingOrRepeatingEvents) {
  ftd_.FailReports(absl::UnavailableError("ftd restarting"), 3);
  auto reporter = Start();
  for (int step = 1; step <= 4; ++step) reporter->OnProgress(Progress(step, {0.1 * step}));
  EXPECT_TRUE(reporter->Flush());
  const std::vector<ft::v1::JobEvent> events = ftd_.events();
  ASSERT_EQ(events.size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(events[i].progress().step(), uint64_t(i + 1));
  size_t step_seconds = 0;
  for (const auto& report : ftd_.reports()) step_seconds += report.step_seconds_size();
  EXPECT_EQ(step_seconds, 4u);
  EXPECT_EQ(reporter->stop_reason(), LeaseReporter::Stop::kNone);
}

TEST_F(LeaseReporterTest, FailingPastTheLeaseTimeoutGivesTheJobUp) {
  ftd_.FailReports(absl::UnavailableError("ftd gone"), 1000000);
  auto reporter = Start(milliseconds(10), milliseconds(50));
  ASSERT_TRUE(WaitFor([&] { return reporter->StopRequested(); }));
  EXPECT_EQ(reporter->stop_reason(), LeaseReporter::Stop::kLeaseLost);
  EXPECT_FALSE(reporter->Flush());
}

TEST_F(LeaseReporterTest, ShutdownStopsTrainingWithACheckpoint) {
  auto reporter = Start();
  EXPECT_FALSE(reporter->StopRequested());
  shutdown_.store(true);
  EXPECT_TRUE(reporter->StopRequested());
  EXPECT_EQ(reporter->stop_reason(), LeaseReporter::Stop::kShutdown);
  EXPECT_TRUE(reporter->CheckpointBeforeStopping());
  EXPECT_TRUE(reporter->Flush());
}

}  // namespace
}  // namespace ft::worker
