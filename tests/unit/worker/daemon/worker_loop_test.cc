// WorkerLoop against a fake ftd and a fake trainer: a leased job is trained with the spec's
// options, its reports reach ftd, and its outcome is completed once; a lost lease or a shutdown
// abandons the job without completing it. No gRPC server, no LibTorch.
#include "worker/daemon/worker_loop.h"

#include <atomic>
#include <chrono>
#include <thread>

#include "common/spec/spec_defaults.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/worker/daemon/fake_worker_link.h"

namespace ft::worker {
namespace {

class WorkerLoopTest : public ::testing::Test {
 protected:
  WorkerLoopTest() {
    csv_ = dir_.Write("train.csv", "text,label\na fine film,1\na dull film,0\ngreat,1\nbad,0\n");
    ftd_.SetWhenIdle(&shutdown_);  // Run() returns once the queued leases are done
  }

  // A lease of a valid job, with the defaults ftd applies at submission.
  ft::v1::AcquireJobResponse Lease(const std::string& job_id) {
    ft::v1::JobSpec spec;
    spec.set_model("scratch:bloom-tiny");
    spec.mutable_dataset()->set_train(csv_);
    spec.set_micro_batch_size(2);
    spec.set_accumulation_steps(2);
    spec.set_epochs(1);
    ft::v1::AcquireJobResponse lease;
    lease.set_lease_id("lease-" + job_id);
    lease.set_heartbeat_interval_ms(10);
    lease.set_lease_timeout_ms(60000);
    ft::v1::Job* job = lease.mutable_job();
    job->set_id(job_id);
    job->set_attempt(1);
    job->set_output_dir(dir_.Path("jobs/" + job_id));
    *job->mutable_spec() = spec::WithDefaults(spec, dir_.path().string());
    return lease;
  }

  // Runs the loop until the fake ftd has no lease left.
  void Run(TrainFunction train) {
    WorkerLoopOptions options;
    options.server = "fake";
    options.worker_id = "w1";
    options.idle_poll_ms = 10;
    WorkerLoop loop(options, &ftd_, std::move(train), &shutdown_);
    EXPECT_EQ(loop.Run(), 0);
  }

  ft::testing::TempDir dir_;
  std::string csv_;
  FakeWorkerLink ftd_;
  std::atomic<bool> shutdown_{false};
};

// Reports two steps and succeeds.
train::TrainOutcome TrainTwoSteps(const train::TrainOptions& options,
                                  train::TrainObserver* observer) {
  for (int64_t step = 1; step <= 2; ++step) {
    train::ProgressReport report;
    report.step = step;
    report.total_steps = 2;
    report.step_durations = {0.5};
    observer->OnProgress(report);
  }
  train::TrainOutcome outcome;
  outcome.status = train::TrainOutcome::Status::kSucceeded;
  outcome.steps = 2;
  return outcome;
}

// Trains until told to stop (at most 10 s), then says it was cancelled.
train::TrainOutcome TrainUntilStopped(const train::TrainOptions&, train::TrainObserver* observer) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!observer->StopRequested() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  train::TrainOutcome outcome;
  outcome.status = train::TrainOutcome::Status::kCancelled;
  return outcome;
}

TEST_F(WorkerLoopTest, TrainsALeasedJobReportsItAndCompletesItOnce) {
  ftd_.QueueLease(Lease("job-1"));
  train::TrainOptions seen;
  Run([&](const train::TrainOptions& options, train::TrainObserver* observer) {
    seen = options;
    return TrainTwoSteps(options, observer);
  });

  EXPECT_EQ(seen.train_path, csv_);
  EXPECT_EQ(seen.micro_batch_size, 2);
  EXPECT_EQ(seen.accumulation_steps, 2);
  EXPECT_EQ(seen.output_dir, dir_.Path("jobs/job-1"));
  const std::vector<ft::v1::JobEvent> events = ftd_.events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].progress().step(), 2u);
  const std::vector<ft::v1::CompleteJobRequest> completes = ftd_.completes();
  ASSERT_EQ(completes.size(), 1u);
  EXPECT_EQ(completes[0].lease_id(), "lease-job-1");
  EXPECT_EQ(completes[0].job_id(), "job-1");
  EXPECT_EQ(completes[0].final_state(), ft::v1::SUCCEEDED);
  ASSERT_GE(ftd_.acquires().size(), 2u);
  EXPECT_EQ(ftd_.acquires()[0].worker_id(), "w1");
  EXPECT_EQ(ftd_.acquires()[0].device(), "cpu");
}

TEST_F(WorkerLoopTest, AFailedTrainingIsCompletedFailedWithItsError) {
  ftd_.QueueLease(Lease("job-1"));
  Run([](const train::TrainOptions&, train::TrainObserver*) {
    train::TrainOutcome outcome;
    outcome.status = train::TrainOutcome::Status::kFailed;
    outcome.error = "train.csv:3: no label";
    return outcome;
  });
  const std::vector<ft::v1::CompleteJobRequest> completes = ftd_.completes();
  ASSERT_EQ(completes.size(), 1u);
  EXPECT_EQ(completes[0].final_state(), ft::v1::FAILED);
  EXPECT_EQ(completes[0].error(), "train.csv:3: no label");
}

TEST_F(WorkerLoopTest, ASpecWhoseFilesWentAwayFailsWithoutTraining) {
  ft::v1::AcquireJobResponse lease = Lease("job-1");
  lease.mutable_job()->mutable_spec()->mutable_dataset()->set_train(dir_.Path("gone.csv"));
  ftd_.QueueLease(lease);
  bool trained = false;
  Run([&](const train::TrainOptions& options, train::TrainObserver* observer) {
    trained = true;
    return TrainTwoSteps(options, observer);
  });
  EXPECT_FALSE(trained);
  const std::vector<ft::v1::CompleteJobRequest> completes = ftd_.completes();
  ASSERT_EQ(completes.size(), 1u);
  EXPECT_EQ(completes[0].final_state(), ft::v1::FAILED);
  EXPECT_NE(completes[0].error().find("gone.csv"), std::string::npos) << completes[0].error();
}

TEST_F(WorkerLoopTest, ACancelFromFtdEndsTheJobCancelled) {
  ftd_.QueueLease(Lease("job-1"));
  ftd_.RequestCancel();
  Run(TrainUntilStopped);
  const std::vector<ft::v1::CompleteJobRequest> completes = ftd_.completes();
  ASSERT_EQ(completes.size(), 1u);
  EXPECT_EQ(completes[0].final_state(), ft::v1::CANCELLED);
}

TEST_F(WorkerLoopTest, ALostLeaseIsAbandonedWithoutCompleting) {
  ftd_.QueueLease(Lease("job-1"));
  ftd_.LoseLease();
  Run(TrainUntilStopped);
  EXPECT_TRUE(ftd_.completes().empty()) << "ftd re-queues the job; a report would be refused";
}

TEST_F(WorkerLoopTest, CompletingIsRetriedWhileFtdIsUnavailable) {
  ftd_.QueueLease(Lease("job-1"));
  ftd_.FailCompletes(absl::UnavailableError("ftd restarting"), 1);
  Run(TrainTwoSteps);
  const std::vector<ft::v1::CompleteJobRequest> completes = ftd_.completes();
  ASSERT_EQ(completes.size(), 2u);
  EXPECT_EQ(completes[1].final_state(), ft::v1::SUCCEEDED);
}

TEST_F(WorkerLoopTest, ARefusedCompletionIsNotRetried) {
  ftd_.QueueLease(Lease("job-1"));
  ftd_.FailCompletes(absl::FailedPreconditionError("lease expired"), 1);
  Run(TrainTwoSteps);
  EXPECT_EQ(ftd_.completes().size(), 1u);
}

TEST_F(WorkerLoopTest, AnIdleWorkerKeepsAskingForWorkUntilShutDown) {
  std::atomic<bool> never{false};
  ftd_.SetWhenIdle(&never);
  ftd_.QueueLease(Lease("job-1"));
  // The first lease is trained; then the loop polls an idle ftd until shut down.
  std::thread stopper([&] {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (ftd_.acquires().size() < 3 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    shutdown_.store(true);
  });
  Run(TrainTwoSteps);
  stopper.join();
  EXPECT_GE(ftd_.acquires().size(), 3u) << "an idle worker keeps asking for work";
  EXPECT_EQ(ftd_.completes().size(), 1u);
}

}  // namespace
}  // namespace ft::worker
