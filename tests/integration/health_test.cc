// grpc.health.v1 on the real ftd, checked with our generated stubs and with `ftctl health`:
// NOT_SERVING without a worker, SERVING while a worker polls, NOT_SERVING again once it has been
// silent for the lease timeout; Watch streams each change.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ft/v1/worker_service.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "tests/support/ftd_process.h"
#include "tests/support/run_command.h"

namespace ft::testing {
namespace {

using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

class HealthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    FtdProcessOptions options;
    options.home = dir_.Path("home");
    options.local_workers = 0;  // workers are played by the test
    options.extra_args = {"--lease-timeout-seconds", "1"};
    ftd_ = std::make_unique<FtdProcess>(options);
    ftd_->Start();
    channel_ = grpc::CreateChannel(ftd_->address(), grpc::InsecureChannelCredentials());
    health_ = grpc::health::v1::Health::NewStub(channel_);
    workers_ = ft::v1::WorkerService::NewStub(channel_);
  }

  // Check's answer; UNKNOWN with `code` set when the call fails.
  HealthCheckResponse::ServingStatus Check(const std::string& service = "",
                                           grpc::StatusCode* code = nullptr) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    HealthCheckRequest request;
    request.set_service(service);
    HealthCheckResponse response;
    const grpc::Status status = health_->Check(&context, request, &response);
    if (code != nullptr) *code = status.error_code();
    return status.ok() ? response.status() : HealthCheckResponse::UNKNOWN;
  }

  bool WaitForStatus(HealthCheckResponse::ServingStatus wanted) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      if (Check() == wanted) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

  void PollAsWorker() {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    ft::v1::AcquireJobRequest request;
    request.set_worker_id("test-worker");
    ft::v1::AcquireJobResponse response;
    ASSERT_TRUE(workers_->AcquireJob(&context, request, &response).ok());
  }

  CommandResult Ftctl(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {BinaryPath("ftctl"), "--server", ftd_->address(),
                                     "--timeout", "10", "health"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunCommand(argv);
  }

  TempDir dir_;
  std::unique_ptr<FtdProcess> ftd_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<grpc::health::v1::Health::Stub> health_;
  std::unique_ptr<ft::v1::WorkerService::Stub> workers_;
};

TEST_F(HealthTest, ServingOnlyWhileAWorkerIsConnected) {
  // Watch from the start, on its own thread.
  std::mutex mu;
  std::vector<HealthCheckResponse::ServingStatus> seen;
  grpc::ClientContext watch_context;
  std::thread watcher([&] {
    HealthCheckRequest request;
    auto reader = health_->Watch(&watch_context, request);
    HealthCheckResponse response;
    while (reader->Read(&response)) {
      std::lock_guard<std::mutex> lock(mu);
      seen.push_back(response.status());
    }
    reader->Finish();
  });

  EXPECT_EQ(Check(), HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(Check("ft.v1.FinetuneService"), HealthCheckResponse::NOT_SERVING);
  CommandResult ftctl = Ftctl({});
  EXPECT_EQ(ftctl.exit_status, 1) << ftctl.output;
  EXPECT_EQ(ftctl.output, "NOT_SERVING\n");

  // A worker polls: SERVING (the housekeeping loop notices within a pass).
  std::atomic<bool> polling{true};
  std::thread worker([&] {
    while (polling) {
      PollAsWorker();
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  });
  EXPECT_TRUE(WaitForStatus(HealthCheckResponse::SERVING)) << ftd_->Log();
  EXPECT_EQ(Check("ft.v1.FinetuneService"), HealthCheckResponse::SERVING);
  ftctl = Ftctl({});
  EXPECT_EQ(ftctl.exit_status, 0) << ftctl.output;
  EXPECT_EQ(ftctl.output, "SERVING\n");

  // The worker goes silent: NOT_SERVING once the lease timeout (1 s) has passed.
  polling = false;
  worker.join();
  EXPECT_TRUE(WaitForStatus(HealthCheckResponse::NOT_SERVING)) << ftd_->Log();
  EXPECT_EQ(Ftctl({}).exit_status, 1);

  watch_context.TryCancel();
  watcher.join();
  std::lock_guard<std::mutex> lock(mu);
  ASSERT_GE(seen.size(), 3u);
  EXPECT_EQ(seen[0], HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(seen[1], HealthCheckResponse::SERVING);
  EXPECT_EQ(seen[2], HealthCheckResponse::NOT_SERVING);
}

TEST_F(HealthTest, UnknownServiceAndUnreachableServer) {
  grpc::StatusCode code = grpc::StatusCode::OK;
  Check("no.such.Service", &code);
  EXPECT_EQ(code, grpc::StatusCode::NOT_FOUND);
  CommandResult ftctl = Ftctl({"--service", "no.such.Service"});
  EXPECT_EQ(ftctl.exit_status, 3) << ftctl.output;
  EXPECT_NE(ftctl.output.find("NOT_FOUND"), std::string::npos) << ftctl.output;

  const std::string address = ftd_->address();
  ftd_->KillGroup();
  ftctl = RunCommand({BinaryPath("ftctl"), "--server", address, "--timeout", "2", "health"});
  EXPECT_EQ(ftctl.exit_status, 4) << ftctl.output;
}

}  // namespace
}  // namespace ft::testing
