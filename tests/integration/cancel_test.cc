// CancelJob on a queued and on a running job; a worker crash fails its job with the signal once
// the job's attempts are used up (here: one).
#include <signal.h>

#include "gtest/gtest.h"
#include "tests/support/ftd_process.h"

namespace ft::testing {
namespace {

class CancelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    csv_ = dir_.Path("toy.csv");
    WriteToyCsv(csv_, 400, 2);
    ftd_.Start();
  }
  ft::v1::JobSpec LongSpec() {
    ft::v1::JobSpec spec = TinySpec(csv_, 0);
    spec.set_epochs(200);  // far longer than any test
    return spec;
  }
  std::string SubmitOk(const ft::v1::JobSpec& spec) {
    ft::v1::SubmitJobResponse response;
    const grpc::Status status = Submit(ftd_, spec, "", &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.job().id();
  }
  grpc::Status Cancel(const std::string& id, ft::v1::Job* job) {
    grpc::ClientContext context;
    ft::v1::CancelJobRequest request;
    request.set_job_id(id);
    request.set_reason("test says stop");
    return ftd_.stub().CancelJob(&context, request, job);
  }
  TempDir dir_;
  std::string csv_;
  FtdProcess ftd_{SingleAttempt(dir_.Path("home"))};

 private:
  static FtdProcessOptions SingleAttempt(const std::string& home) {
    FtdProcessOptions options;
    options.home = home;
    options.extra_args = {"--max-job-attempts", "1"};
    return options;
  }
};

TEST_F(CancelTest, RunningJobStopsWithinFiveSeconds) {
  const std::string running = SubmitOk(LongSpec());
  const std::string queued = SubmitOk(LongSpec());
  WaitFor(ftd_, running, [](const ft::v1::Job& j) { return j.progress().step() >= 1; });

  ft::v1::Job job;
  ASSERT_TRUE(Cancel(queued, &job).ok());
  EXPECT_EQ(job.state(), ft::v1::CANCELLED);  // never started: at once

  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(Cancel(running, &job).ok());
  EXPECT_EQ(job.state(), ft::v1::CANCELLING);
  job = WaitFor(
      ftd_, running, [](const ft::v1::Job& j) { return j.state() == ft::v1::CANCELLED; },
      std::chrono::seconds(10));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(job.error(), "test says stop");

  // Cancelling an ended job is refused; the watcher of the cancelled job sees the end.
  EXPECT_EQ(Cancel(running, &job).error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  const auto events = WatchAll(ftd_, running);
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().state_change().to(), ft::v1::CANCELLED);
}

TEST_F(CancelTest, KilledWorkerFailsItsJobWithTheSignalAndTheDaemonGoesOn) {
  const std::string id = SubmitOk(LongSpec());
  WaitFor(ftd_, id, [](const ft::v1::Job& j) { return j.progress().step() >= 1; });
  const std::vector<pid_t> workers = ftd_.ChildPids();
  ASSERT_EQ(workers.size(), 1u);
  kill(workers[0], SIGKILL);
  const ft::v1::Job job =
      WaitFor(ftd_, id, [](const ft::v1::Job& j) { return j.state() == ft::v1::FAILED; });
  EXPECT_NE(job.error().find("signal 9"), std::string::npos) << job.error();
  EXPECT_NE(job.error().find("local-0"), std::string::npos) << job.error();
  EXPECT_NE(job.error().find("gave up after 1 attempts"), std::string::npos) << job.error();

  // The worker is restarted and the next job runs to the end.
  const std::string next = SubmitOk(TinySpec(csv_, 2));
  const ft::v1::Job done =
      WaitFor(ftd_, next, [](const ft::v1::Job& j) { return j.state() == ft::v1::SUCCEEDED; });
  EXPECT_EQ(done.state(), ft::v1::SUCCEEDED);
}

}  // namespace
}  // namespace ft::testing
