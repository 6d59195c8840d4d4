// The gRPC adapters in-process: FinetuneService and WorkerService on a loopback port, over a
// real JobManager and store in a temp dir. Covers status translation, RPC metrics and WatchJob.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "ft/v1/finetune_service.grpc.pb.h"
#include "ft/v1/worker_service.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "prometheus/registry.h"
#include "server/api/finetune_service.h"
#include "server/api/worker_service.h"
#include "server/metrics/server_metrics.h"
#include "server/sched/clock.h"
#include "server/sched/event_hub.h"
#include "server/sched/job_manager.h"
#include "server/store/job_store.h"
#include "tests/unit/server/server_test_util.h"

namespace ft::api {
namespace {

using ft::testing::TempDir;
using ft::v1::JobEvent;

class ApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    csv_ = dir_.Write("train.csv", ft::testing::SmallCsv());
    auto store = store::JobStore::Open(dir_.Path("ftd.db"));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    metrics_ = std::make_unique<metrics::ServerMetrics>(registry_, &clock_, absl::Seconds(60));
    sched::JobManagerOptions options;
    options.base_dir = dir_.path().string();
    options.heartbeat_interval = absl::Milliseconds(1500);
    options.lease_timeout = absl::Seconds(20);
    folders_ = ft::testing::JobFoldersIn(dir_.Path("home"));
    auto manager = sched::JobManager::Create(options, store_.get(), folders_.get(), &hub_, &clock_,
                                             metrics_.get(), nullptr);
    ASSERT_TRUE(manager.ok()) << manager.status();
    manager_ = std::move(*manager);
    finetune_ =
        std::make_unique<FinetuneServiceImpl>(manager_.get(), store_.get(), &hub_, metrics_.get());
    worker_ = std::make_unique<WorkerServiceImpl>(manager_.get(), metrics_.get());
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(finetune_.get());
    builder.RegisterService(worker_.get());
    server_ = builder.BuildAndStart();
    ASSERT_TRUE(server_ != nullptr);
    ASSERT_GT(port, 0);
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                       grpc::InsecureChannelCredentials());
    client_ = ft::v1::FinetuneService::NewStub(channel);
    worker_client_ = ft::v1::WorkerService::NewStub(channel);
  }

  void TearDown() override {
    if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  }

  std::unique_ptr<grpc::ClientContext> Context() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return context;
  }

  ft::v1::Job SubmitDirect() {
    auto result = manager_->Submit(ft::testing::ValidSpec(csv_), "");
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? result->job : ft::v1::Job();
  }

  // Runs a job to SUCCEEDED through the manager, with one progress report.
  ft::v1::Job RunToSuccess() {
    ft::v1::Job job = SubmitDirect();
    auto lease = manager_->Acquire("w1");
    EXPECT_TRUE(lease.ok() && lease->has_value());
    EXPECT_TRUE(
        manager_->Report((*lease)->lease_id, job.id(), {ft::testing::ProgressEvent(1, 0.5, 8)}, {})
            .ok());
    EXPECT_TRUE(manager_->Complete((*lease)->lease_id, job.id(), ft::v1::SUCCEEDED, "").ok());
    return *manager_->Get(job.id());
  }

  // Reads a WatchJob stream to its end.
  grpc::Status Watch(const std::string& job_id, uint64_t after_seq, std::vector<JobEvent>* out) {
    auto context = Context();
    ft::v1::WatchJobRequest request;
    request.set_job_id(job_id);
    request.set_after_seq(after_seq);
    auto reader = client_->WatchJob(context.get(), request);
    JobEvent event;
    while (reader->Read(&event)) out->push_back(event);
    return reader->Finish();
  }

  double RpcCount(const std::string& method, const std::string& code) {
    for (const auto& family : registry_.Collect()) {
      if (family.name != "ft_rpc_requests_total") continue;
      for (const auto& metric : family.metric) {
        bool m = false, c = false;
        for (const auto& label : metric.label) {
          m = m || (label.name == "method" && label.value == method);
          c = c || (label.name == "code" && label.value == code);
        }
        if (m && c) return metric.counter.value;
      }
    }
    return 0;
  }

  TempDir dir_;
  std::string csv_;
  prometheus::Registry registry_;
  sched::RealClock clock_;
  sched::EventHub hub_;
  std::unique_ptr<store::JobStore> store_;
  std::unique_ptr<store::JobFolders> folders_;
  std::unique_ptr<metrics::ServerMetrics> metrics_;
  std::unique_ptr<sched::JobManager> manager_;
  std::unique_ptr<FinetuneServiceImpl> finetune_;
  std::unique_ptr<WorkerServiceImpl> worker_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<ft::v1::FinetuneService::Stub> client_;
  std::unique_ptr<ft::v1::WorkerService::Stub> worker_client_;
};

TEST_F(ApiTest, SubmitTranslatesStatusesAndCountsRpcs) {
  ft::v1::SubmitJobRequest request;
  *request.mutable_spec() = ft::testing::ValidSpec(csv_);
  request.mutable_spec()->set_micro_batch_size(0);
  ft::v1::SubmitJobResponse response;
  grpc::Status status = client_->SubmitJob(Context().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_TRUE(absl::StrContains(status.error_message(), "spec.micro_batch_size"))
      << status.error_message();

  request.mutable_spec()->set_micro_batch_size(4);
  request.set_request_id("r1");
  status = client_->SubmitJob(Context().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(response.created());
  EXPECT_EQ(response.job().state(), ft::v1::QUEUED);
  const std::string id = response.job().id();
  status = client_->SubmitJob(Context().get(), request, &response);
  ASSERT_TRUE(status.ok());
  EXPECT_FALSE(response.created());
  EXPECT_EQ(response.job().id(), id);

  ft::v1::GetJobRequest get;
  get.set_job_id("job-404");
  ft::v1::Job job;
  EXPECT_EQ(client_->GetJob(Context().get(), get, &job).error_code(), grpc::NOT_FOUND);

  EXPECT_EQ(RpcCount("SubmitJob", "OK"), 2);
  EXPECT_EQ(RpcCount("SubmitJob", "INVALID_ARGUMENT"), 1);
  EXPECT_EQ(RpcCount("GetJob", "NOT_FOUND"), 1);
}

TEST_F(ApiTest, ListAndCancel) {
  SubmitDirect();
  SubmitDirect();
  ft::v1::ListJobsRequest list;
  list.set_page_size(1);
  ft::v1::ListJobsResponse page;
  ASSERT_TRUE(client_->ListJobs(Context().get(), list, &page).ok());
  ASSERT_EQ(page.jobs_size(), 1);
  EXPECT_EQ(page.jobs(0).id(), "job-2");
  list.set_page_token(page.next_page_token());
  ASSERT_TRUE(client_->ListJobs(Context().get(), list, &page).ok());
  ASSERT_EQ(page.jobs_size(), 1);
  EXPECT_EQ(page.jobs(0).id(), "job-1");
  EXPECT_TRUE(page.next_page_token().empty());
  list.set_page_token("bogus");
  EXPECT_EQ(client_->ListJobs(Context().get(), list, &page).error_code(), grpc::INVALID_ARGUMENT);

  ft::v1::CancelJobRequest cancel;
  cancel.set_job_id("job-1");
  ft::v1::Job job;
  ASSERT_TRUE(client_->CancelJob(Context().get(), cancel, &job).ok());
  EXPECT_EQ(job.state(), ft::v1::CANCELLED);
  EXPECT_EQ(client_->CancelJob(Context().get(), cancel, &job).error_code(),
            grpc::FAILED_PRECONDITION);
}

TEST_F(ApiTest, WorkerServiceLeaseCycle) {
  ft::v1::AcquireJobRequest acquire;
  acquire.set_worker_id("w1");
  ft::v1::AcquireJobResponse lease;
  ASSERT_TRUE(worker_client_->AcquireJob(Context().get(), acquire, &lease).ok());
  EXPECT_FALSE(lease.has_job());
  EXPECT_EQ(lease.heartbeat_interval_ms(), 1500u);
  EXPECT_EQ(lease.lease_timeout_ms(), 20000u);

  ft::v1::Job job = SubmitDirect();
  ASSERT_TRUE(worker_client_->AcquireJob(Context().get(), acquire, &lease).ok());
  ASSERT_TRUE(lease.has_job());
  EXPECT_EQ(lease.job().id(), job.id());

  ft::v1::ReportEventsRequest report;
  report.set_lease_id(lease.lease_id());
  report.set_job_id(job.id());
  *report.add_events() = ft::testing::ProgressEvent(1, 0.5, 8);
  report.add_step_seconds(0.01);
  ft::v1::HeartbeatResponse beat;
  ASSERT_TRUE(worker_client_->ReportEvents(Context().get(), report, &beat).ok());
  EXPECT_FALSE(beat.cancel_requested());

  ft::v1::HeartbeatRequest heartbeat;
  heartbeat.set_lease_id("wrong");
  heartbeat.set_job_id(job.id());
  EXPECT_EQ(worker_client_->Heartbeat(Context().get(), heartbeat, &beat).error_code(),
            grpc::FAILED_PRECONDITION);

  ft::v1::CompleteJobRequest complete;
  complete.set_lease_id(lease.lease_id());
  complete.set_job_id(job.id());
  complete.set_final_state(ft::v1::SUCCEEDED);
  ft::v1::CompleteJobResponse done;
  ASSERT_TRUE(worker_client_->CompleteJob(Context().get(), complete, &done).ok());
  EXPECT_EQ(manager_->Get(job.id())->state(), ft::v1::SUCCEEDED);
}

TEST_F(ApiTest, WatchUnknownJobIsNotFound) {
  std::vector<JobEvent> events;
  EXPECT_EQ(Watch("job-404", 0, &events).error_code(), grpc::NOT_FOUND);
  EXPECT_TRUE(events.empty());
}

TEST_F(ApiTest, WatchFinishedJobReplaysAndEnds) {
  ft::v1::Job job = RunToSuccess();
  std::vector<JobEvent> events;
  grpc::Status status = Watch(job.id(), 0, &events);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(events.size(), job.last_event_seq());
  for (size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i].seq(), i + 1);
  EXPECT_EQ(events.back().state_change().to(), ft::v1::SUCCEEDED);

  std::vector<JobEvent> tail;
  ASSERT_TRUE(Watch(job.id(), 2, &tail).ok());
  ASSERT_EQ(tail.size(), job.last_event_seq() - 2);
  EXPECT_EQ(tail.front().seq(), 3u);
}

TEST_F(ApiTest, WatchFinishedJobFromItsLastEventEndsAtOnce) {
  // A client that saw the final event and reconnects must not wait forever.
  ft::v1::Job job = RunToSuccess();
  std::vector<JobEvent> events;
  const auto start = std::chrono::steady_clock::now();
  grpc::Status status = Watch(job.id(), job.last_event_seq(), &events);
  EXPECT_TRUE(status.ok()) << grpc::StatusCode(status.error_code()) << " "
                           << status.error_message();
  EXPECT_TRUE(events.empty());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(ApiTest, WatchFollowsALiveJob) {
  ft::v1::Job job = SubmitDirect();
  std::vector<JobEvent> events;
  grpc::Status status;
  std::thread watcher([&] { status = Watch(job.id(), 0, &events); });
  ASSERT_TRUE(ft::testing::WaitFor([&] { return hub_.listener_count(job.id()) == 1; }));
  auto lease = manager_->Acquire("w1");
  ASSERT_TRUE(lease.ok() && lease->has_value());
  for (int i = 1; i <= 5; ++i) {
    ASSERT_TRUE(manager_
                    ->Report((*lease)->lease_id, job.id(),
                             {ft::testing::ProgressEvent(i, 1.0 / i, 8 * i)}, {})
                    .ok());
  }
  ASSERT_TRUE(manager_->Complete((*lease)->lease_id, job.id(), ft::v1::SUCCEEDED, "").ok());
  watcher.join();
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_EQ(events.size(), 8u);  // queued, running, 5 progress, succeeded
  for (size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i].seq(), i + 1);
  EXPECT_TRUE(ft::testing::WaitFor([&] { return hub_.listener_count(job.id()) == 0; }));
}

}  // namespace
}  // namespace ft::api
