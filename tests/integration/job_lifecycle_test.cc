// Submit -> watch -> SUCCEEDED through the real daemon and worker; idempotent resubmit; several
// watchers see the same, complete, ordered log.
#include <filesystem>
#include <future>

#include "gtest/gtest.h"
#include "tests/support/ftd_process.h"

namespace ft::testing {
namespace {

using ft::v1::JobEvent;

class JobLifecycleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    csv_ = dir_.Path("toy.csv");
    WriteToyCsv(csv_, 96, 1);
    ftd_.Start();
  }
  TempDir dir_;
  std::string csv_;
  FtdProcess ftd_{FtdProcessOptions{dir_.Path("home")}};
};

// Checks the log's invariants: seqs 1..N without gaps, starts QUEUED, ends with `final_state`.
void ExpectWellFormedLog(const std::vector<JobEvent>& events, ft::v1::JobState final_state) {
  ASSERT_FALSE(events.empty());
  for (size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i].seq(), i + 1);
  ASSERT_TRUE(events.front().has_state_change());
  EXPECT_EQ(events.front().state_change().to(), ft::v1::QUEUED);
  ASSERT_TRUE(events.back().has_state_change());
  EXPECT_EQ(events.back().state_change().to(), final_state);
}

TEST_F(JobLifecycleTest, SubmitWatchSucceedsWithOrderedEventsAndOutputs) {
  ft::v1::SubmitJobResponse submitted;
  ft::v1::JobSpec spec = TinySpec(csv_, 6);
  spec.set_eval_every_steps(3);
  spec.mutable_dataset()->set_test(csv_);
  ASSERT_TRUE(Submit(ftd_, spec, "", &submitted).ok());
  const std::string id = submitted.job().id();
  EXPECT_TRUE(submitted.created());
  EXPECT_EQ(submitted.job().state(), ft::v1::QUEUED);

  grpc::Status status;
  const std::vector<JobEvent> events = WatchAll(ftd_, id, 0, std::chrono::seconds(90), &status);
  EXPECT_TRUE(status.ok()) << status.error_message();
  ExpectWellFormedLog(events, ft::v1::SUCCEEDED);

  std::vector<ft::v1::JobState> states;
  int progress = 0, validation = 0, test = 0;
  uint64_t last_step = 0;
  for (const JobEvent& event : events) {
    EXPECT_EQ(event.job_id(), id);
    EXPECT_EQ(event.attempt(), 1u);
    if (event.has_state_change()) states.push_back(event.state_change().to());
    if (event.has_progress()) {
      ++progress;
      EXPECT_GT(event.progress().step(), last_step);  // steps only move forward
      last_step = event.progress().step();
      EXPECT_EQ(event.progress().total_steps(), 6u);
      EXPECT_GT(event.progress().samples_per_second(), 0);
      EXPECT_GT(event.progress().loss(), 0);
    }
    if (event.has_evaluation()) {
      (event.evaluation().split() == "test" ? test : validation)++;
      EXPECT_GE(event.evaluation().accuracy(), 0);
      EXPECT_LE(event.evaluation().accuracy(), 1);
    }
  }
  EXPECT_EQ(states,
            (std::vector<ft::v1::JobState>{ft::v1::QUEUED, ft::v1::RUNNING, ft::v1::SUCCEEDED}));
  EXPECT_EQ(progress, 6);  // log_every_steps = 1
  EXPECT_EQ(last_step, 6u);
  EXPECT_GE(validation, 2);  // every 3 steps
  EXPECT_EQ(test, 1);

  const ft::v1::Job job = GetJob(ftd_, id);
  EXPECT_EQ(job.state(), ft::v1::SUCCEEDED);
  EXPECT_EQ(job.last_event_seq(), events.size());
  EXPECT_EQ(job.progress().step(), 6u);
  EXPECT_EQ(job.evaluations_size(), 2);
  for (const char* file : {"model.safetensors", "config.json", "result.json", "events.jsonl"}) {
    EXPECT_TRUE(std::filesystem::exists(job.output_dir() + "/" + file)) << file;
  }
  // ftd gives its workers <home>/cache/tokens: the job's splits were stored there.
  int cached_splits = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_.Path("home/cache/tokens"))) {
    cached_splits += entry.path().extension() == ".tokens";
  }
  EXPECT_GE(cached_splits, 2);

  // A watcher that arrives late, after a given seq, gets exactly the rest and then the end.
  const std::vector<JobEvent> tail = WatchAll(ftd_, id, 3);
  ASSERT_EQ(tail.size(), events.size() - 3);
  EXPECT_EQ(tail.front().seq(), 4u);
  EXPECT_EQ(tail.back().SerializeAsString(), events.back().SerializeAsString());

  // A watcher of an ended job that asks only for what follows its last event ends at once.
  grpc::Status end_status;
  const std::vector<JobEvent> none =
      WatchAll(ftd_, id, events.size(), std::chrono::seconds(5), &end_status);
  EXPECT_TRUE(none.empty());
  EXPECT_TRUE(end_status.ok()) << end_status.error_message();
}

TEST_F(JobLifecycleTest, ResubmitWithSameRequestIdReturnsTheFirstJob) {
  ft::v1::SubmitJobResponse first, second, other;
  const ft::v1::JobSpec spec = TinySpec(csv_, 2);
  ASSERT_TRUE(Submit(ftd_, spec, "req-42", &first).ok());
  ASSERT_TRUE(Submit(ftd_, spec, "req-42", &second).ok());
  ASSERT_TRUE(Submit(ftd_, spec, "req-43", &other).ok());
  EXPECT_TRUE(first.created());
  EXPECT_FALSE(second.created());
  EXPECT_EQ(first.job().id(), second.job().id());
  EXPECT_NE(first.job().id(), other.job().id());

  grpc::ClientContext context;
  ft::v1::ListJobsResponse list;
  ASSERT_TRUE(ftd_.stub().ListJobs(&context, ft::v1::ListJobsRequest(), &list).ok());
  EXPECT_EQ(list.jobs_size(), 2);
}

TEST_F(JobLifecycleTest, ConcurrentWatchersEachGetEveryEventInOrder) {
  ft::v1::SubmitJobResponse submitted;
  ASSERT_TRUE(Submit(ftd_, TinySpec(csv_, 8), "", &submitted).ok());
  const std::string id = submitted.job().id();
  std::vector<std::future<std::vector<JobEvent>>> watchers;
  for (int i = 0; i < 3; ++i) {
    watchers.push_back(std::async(std::launch::async, [&] { return WatchAll(ftd_, id); }));
  }
  std::vector<std::vector<JobEvent>> logs;
  for (auto& watcher : watchers) logs.push_back(watcher.get());
  ExpectWellFormedLog(logs[0], ft::v1::SUCCEEDED);
  for (size_t w = 1; w < logs.size(); ++w) {
    ASSERT_EQ(logs[w].size(), logs[0].size());
    for (size_t i = 0; i < logs[0].size(); ++i) {
      EXPECT_EQ(logs[w][i].SerializeAsString(), logs[0][i].SerializeAsString());
    }
  }
}

TEST_F(JobLifecycleTest, StalledWatcherDelaysNobodyAndLaterGetsEverything) {
  ft::v1::SubmitJobResponse submitted;
  ASSERT_TRUE(Submit(ftd_, TinySpec(csv_, 12), "", &submitted).ok());
  const std::string id = submitted.job().id();

  // The stalled watcher reads one event, then nothing until the job has ended.
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(90));
  ft::v1::WatchJobRequest request;
  request.set_job_id(id);
  auto stalled = ftd_.stub().WatchJob(&context, request);
  JobEvent first;
  ASSERT_TRUE(stalled->Read(&first));

  // Meanwhile training and another watcher run to the end.
  const std::vector<JobEvent> live = WatchAll(ftd_, id);
  ExpectWellFormedLog(live, ft::v1::SUCCEEDED);

  std::vector<JobEvent> late = {first};
  JobEvent event;
  while (stalled->Read(&event)) late.push_back(event);
  EXPECT_TRUE(stalled->Finish().ok());
  ASSERT_EQ(late.size(), live.size());
  for (size_t i = 0; i < live.size(); ++i) {
    EXPECT_EQ(late[i].SerializeAsString(), live[i].SerializeAsString()) << "event " << i + 1;
  }
}

TEST_F(JobLifecycleTest, UnknownJobIsNotFound) {
  grpc::Status status;
  WatchAll(ftd_, "job-999", 0, std::chrono::seconds(5), &status);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  grpc::ClientContext context;
  ft::v1::GetJobRequest request;
  request.set_job_id("job-999");
  ft::v1::Job job;
  EXPECT_EQ(ftd_.stub().GetJob(&context, request, &job).error_code(), grpc::StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace ft::testing
