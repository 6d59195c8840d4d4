// JobManager: the state machine, queue and leases, on a real store in a temp dir, a real
// EventHub and a FakeClock. No worker processes.
#include "server/sched/job_manager.h"

#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "server/sched/clock.h"
#include "server/sched/event_hub.h"
#include "server/store/job_store.h"
#include "tests/unit/server/sched/job_manager_fixture.h"
#include "tests/unit/server/server_test_util.h"

namespace ft::sched {
namespace {

using ft::testing::TempDir;
using ft::v1::Job;
using ft::v1::JobEvent;
using ft::v1::JobSpec;
using ft::v1::JobState;

class RecordingKiller : public WorkerKiller {
 public:
  bool KillWorker(const std::string& worker_id) override {
    absl::MutexLock lock(&mu_);
    killed_.push_back(worker_id);
    return true;
  }
  std::vector<std::string> killed() {
    absl::MutexLock lock(&mu_);
    return killed_;
  }

 private:
  absl::Mutex mu_;
  std::vector<std::string> killed_;
};

struct StateChangeRecord {
  std::string job_id;
  JobState from;
  JobState to;
};

class RecordingObserver : public JobObserver {
 public:
  void OnJobSubmitted(const Job& job) override {
    absl::MutexLock lock(&mu_);
    submitted.push_back(job.id());
  }
  void OnJobStateChanged(const Job& job, JobState from) override {
    absl::MutexLock lock(&mu_);
    changes.push_back({job.id(), from, job.state()});
  }
  void OnJobEvents(const Job& job, const std::vector<JobEvent>& events,
                   const std::vector<double>& step_seconds) override {
    absl::MutexLock lock(&mu_);
    event_count += events.size();
    steps.insert(steps.end(), step_seconds.begin(), step_seconds.end());
  }

  absl::Mutex mu_;
  std::vector<std::string> submitted;
  std::vector<StateChangeRecord> changes;
  size_t event_count = 0;
  std::vector<double> steps;
};

class CountingListener : public EventListener {
 public:
  void OnNewEvents() override { ++wakeups; }
  std::atomic<int> wakeups{0};
};

class JobManagerTest : public JobManagerFixture<RecordingObserver> {
 protected:
  void SetUp() override {
    options_.heartbeat_interval = absl::Seconds(1);
    options_.lease_timeout = absl::Seconds(15);
    options_.cancel_grace = absl::Seconds(4);
    Start(&killer_);
  }

  JobSpec Spec() { return ft::testing::ValidSpec(csv_); }

  Job Submit(const std::string& request_id = "") {
    auto result = manager_->Submit(Spec(), request_id);
    EXPECT_TRUE(result.ok()) << result.status();
    if (!result.ok()) return Job();
    clock_.Advance(absl::Seconds(1));  // distinct creation times
    return result->job;
  }

  Lease Acquire(const std::string& worker_id = "w1") {
    auto lease = manager_->Acquire(worker_id);
    EXPECT_TRUE(lease.ok()) << lease.status();
    if (!lease.ok() || !lease->has_value()) {
      ADD_FAILURE() << "no job acquired";
      return Lease();
    }
    return **lease;
  }

  JobEvent LastEvent(const std::string& id) {
    std::vector<JobEvent> events = Events(id);
    return events.empty() ? JobEvent() : events.back();
  }

  void ExpectContiguous(const std::string& id) {
    std::vector<JobEvent> events = Events(id);
    for (size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i].seq(), i + 1);
    EXPECT_EQ(Get(id).last_event_seq(), events.size());
  }

  size_t JobCount() {
    auto page = manager_->List({}, 1000, "");
    EXPECT_TRUE(page.ok()) << page.status();
    return page.ok() ? page->jobs.size() : 0;
  }

  RecordingKiller killer_;
};

// --- Submit ---

TEST_F(JobManagerTest, SubmitStoresQueuedJobWithDefaultsAndAnEvent) {
  JobSpec spec = Spec();
  spec.mutable_dataset()->set_train("data/train.csv");  // relative to base_dir
  auto result = manager_->Submit(spec, "");
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->created);
  const Job& job = result->job;
  EXPECT_FALSE(job.id().empty());
  EXPECT_EQ(job.state(), ft::v1::QUEUED);
  EXPECT_EQ(job.attempt(), 1u);
  EXPECT_EQ(job.spec().dataset().train(), csv_);
  EXPECT_EQ(job.spec().optimizer(), "adamw");
  EXPECT_DOUBLE_EQ(job.spec().learning_rate(), 1e-3);
  EXPECT_EQ(job.output_dir(),
            (std::filesystem::path(dir_.Path("home")) / "jobs" / job.id()).string());
  EXPECT_EQ(job.create_time().seconds(), absl::ToUnixSeconds(clock_.Now()));
  EXPECT_EQ(job.last_event_seq(), 1u);

  auto stored = manager_->Get(job.id());
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->state(), ft::v1::QUEUED);
  EXPECT_EQ(stored->spec().dataset().train(), csv_);

  std::vector<JobEvent> events = Events(job.id());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].seq(), 1u);
  EXPECT_EQ(events[0].attempt(), 1u);
  ASSERT_TRUE(events[0].has_state_change());
  EXPECT_EQ(events[0].state_change().from(), ft::v1::JOB_STATE_UNSPECIFIED);
  EXPECT_EQ(events[0].state_change().to(), ft::v1::QUEUED);
  EXPECT_EQ(observer_.submitted, std::vector<std::string>{job.id()});

  // The hub got the event too, so watchers need not read the store.
  auto cached = hub_.CachedAfter(job.id(), 0, 100);
  ASSERT_TRUE(cached.has_value());
  ASSERT_EQ(cached->size(), 1u);
  EXPECT_EQ((*cached)[0].seq(), 1u);
}

TEST_F(JobManagerTest, SubmitWithSameRequestIdReturnsTheFirstJob) {
  auto first = manager_->Submit(Spec(), "retry-me");
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = manager_->Submit(Spec(), "retry-me");
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(first->created);
  EXPECT_FALSE(second->created);
  EXPECT_EQ(second->job.id(), first->job.id());
  EXPECT_EQ(Events(first->job.id()).size(), 1u);
  EXPECT_EQ(JobCount(), 1u);
  EXPECT_EQ(observer_.submitted.size(), 1u);
}

TEST_F(JobManagerTest, RequestIdTooLongIsInvalid) {
  FT_EXPECT_CODE(manager_->Submit(Spec(), std::string(257, 'r')),
                 absl::StatusCode::kInvalidArgument);
  FT_EXPECT_OK(manager_->Submit(Spec(), std::string(256, 'r')));
}

struct InvalidCase {
  std::string name;
  std::function<void(JobSpec&)> mutate;
  std::string field;  // must appear in the message
};

TEST_F(JobManagerTest, InvalidSpecsAreRejectedNamingTheFieldAndNothingIsStored) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  const std::string headerless = dir_.Write("other.csv", "body,label\nhi,1\n");
  const std::vector<InvalidCase> cases = {
      {"micro_batch_size 0", [](JobSpec& s) { s.set_micro_batch_size(0); }, "micro_batch_size"},
      {"accumulation_steps 0", [](JobSpec& s) { s.set_accumulation_steps(0); },
       "accumulation_steps"},
      {"epochs 0", [](JobSpec& s) { s.set_epochs(0); }, "epochs"},
      {"learning_rate NaN", [&](JobSpec& s) { s.set_learning_rate(nan); }, "learning_rate"},
      {"learning_rate negative", [](JobSpec& s) { s.set_learning_rate(-0.1); }, "learning_rate"},
      {"learning_rate inf", [&](JobSpec& s) { s.set_learning_rate(inf); }, "learning_rate"},
      {"learning_rate -inf", [&](JobSpec& s) { s.set_learning_rate(-inf); }, "learning_rate"},
      {"optimizer", [](JobSpec& s) { s.set_optimizer("lion"); }, "spec.optimizer"},
      {"model scratch:nope", [](JobSpec& s) { s.set_model("scratch:nope"); }, "spec.model"},
      {"model is a file", [&](JobSpec& s) { s.set_model(headerless); }, "not a folder"},
      {"model empty", [](JobSpec& s) { s.clear_model(); }, "spec.model"},
      {"missing text column", [&](JobSpec& s) { s.mutable_dataset()->set_train(headerless); },
       "'text'"},
      {"missing label column",
       [](JobSpec& s) { s.mutable_dataset()->set_label_column("sentiment"); }, "'sentiment'"},
      {"unknown format", [](JobSpec& s) { s.mutable_dataset()->set_format("parquet"); },
       "spec.dataset.format"},
      {"precision", [](JobSpec& s) { s.set_precision("fp8"); }, "spec.precision"},
      {"train empty", [](JobSpec& s) { s.mutable_dataset()->clear_train(); }, "spec.dataset.train"},
  };
  for (const InvalidCase& c : cases) {
    JobSpec spec = Spec();
    c.mutate(spec);
    auto result = manager_->Submit(spec, "id-" + c.name);
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument)
        << c.name << ": " << result.status();
    EXPECT_TRUE(absl::StrContains(result.status().message(), c.field))
        << c.name << ": " << result.status();
  }
  EXPECT_EQ(JobCount(), 0u);
  EXPECT_TRUE(observer_.submitted.empty());
}

TEST_F(JobManagerTest, MissingTrainFileIsNotFound) {
  JobSpec spec = Spec();
  spec.mutable_dataset()->set_train("data/missing.csv");
  auto result = manager_->Submit(spec, "");
  EXPECT_EQ(result.status().code(), absl::StatusCode::kNotFound) << result.status();
  EXPECT_TRUE(absl::StrContains(result.status().message(), "spec.dataset.train"));
  EXPECT_TRUE(absl::StrContains(result.status().message(), dir_.Path("data/missing.csv")))
      << "the message shows the resolved path: " << result.status();
  EXPECT_EQ(JobCount(), 0u);
}

TEST_F(JobManagerTest, QueueLimitIsResourceExhausted) {
  options_.max_queued_jobs = 2;
  Recreate();
  Submit("a");
  Submit("b");
  auto third = manager_->Submit(Spec(), "c");
  EXPECT_EQ(third.status().code(), absl::StatusCode::kResourceExhausted) << third.status();
  EXPECT_EQ(JobCount(), 2u);
  // A retry of a job that is already queued still answers with that job.
  auto retry = manager_->Submit(Spec(), "a");
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_FALSE(retry->created);
  // Running jobs do not count against the queue.
  Acquire();
  FT_EXPECT_OK(manager_->Submit(Spec(), "c"));
  FT_EXPECT_CODE(manager_->Submit(Spec(), "d"), absl::StatusCode::kResourceExhausted);
}

// --- Get / List ---

TEST_F(JobManagerTest, GetAndListValidateArguments) {
  FT_EXPECT_CODE(manager_->Get("job-404"), absl::StatusCode::kNotFound);
  FT_EXPECT_CODE(manager_->List({}, -1, ""), absl::StatusCode::kInvalidArgument);
  FT_EXPECT_CODE(manager_->List({}, 1001, ""), absl::StatusCode::kInvalidArgument);
  FT_EXPECT_CODE(manager_->List({}, 10, "garbage"), absl::StatusCode::kInvalidArgument);
  for (int i = 0; i < 3; ++i) Submit();
  auto all = manager_->List({}, 0, "");  // 0 means the default page size
  ASSERT_TRUE(all.ok()) << all.status();
  EXPECT_EQ(all->jobs.size(), 3u);
  EXPECT_TRUE(all->next_page_token.empty());
}

// --- Acquire ---

TEST_F(JobManagerTest, AcquireIsFifoAndMarksRunning) {
  Job a = Submit();
  Job b = Submit();
  Job c = Submit();
  Lease la = Acquire("w1");
  EXPECT_EQ(la.job.id(), a.id());
  EXPECT_EQ(la.job.state(), ft::v1::RUNNING);
  EXPECT_EQ(la.job.worker_id(), "w1");
  EXPECT_EQ(la.job.start_time().seconds(), absl::ToUnixSeconds(clock_.Now()));
  EXPECT_FALSE(la.lease_id.empty());
  Lease lb = Acquire("w2");
  EXPECT_EQ(lb.job.id(), b.id());
  EXPECT_NE(lb.lease_id, la.lease_id);
  Lease lc = Acquire("w1");
  EXPECT_EQ(lc.job.id(), c.id());

  auto none = manager_->Acquire("w3");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->has_value());
  EXPECT_EQ(manager_->active_leases(), 3);

  Job stored = Get(a.id());
  EXPECT_EQ(stored.state(), ft::v1::RUNNING);
  EXPECT_EQ(stored.worker_id(), "w1");
  JobEvent last = LastEvent(a.id());
  ASSERT_TRUE(last.has_state_change());
  EXPECT_EQ(last.seq(), 2u);
  EXPECT_EQ(last.state_change().from(), ft::v1::QUEUED);
  EXPECT_EQ(last.state_change().to(), ft::v1::RUNNING);
  EXPECT_TRUE(absl::StrContains(last.state_change().reason(), "w1"));
}

TEST_F(JobManagerTest, AcquireOnEmptyQueueAndWithoutWorkerId) {
  auto none = manager_->Acquire("w1");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->has_value());
  Submit();
  FT_EXPECT_CODE(manager_->Acquire(""), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Get("job-1").state(), ft::v1::QUEUED);
}

TEST_F(JobManagerTest, AcquireSkipsCancelledJobs) {
  Job a = Submit();
  Job b = Submit();
  ASSERT_TRUE(manager_->Cancel(a.id(), "").ok());
  Lease lease = Acquire();
  EXPECT_EQ(lease.job.id(), b.id());
}

// --- Leases ---

TEST_F(JobManagerTest, WrongOrUnknownLeaseIsFailedPrecondition) {
  Job a = Submit();
  Job b = Submit();
  Lease la = Acquire("w1");
  Lease lb = Acquire("w2");
  const auto kFP = absl::StatusCode::kFailedPrecondition;
  FT_EXPECT_CODE(manager_->Heartbeat("lease-bogus", a.id()), kFP);
  FT_EXPECT_CODE(manager_->Heartbeat(la.lease_id, b.id()), kFP);  // someone else's job
  FT_EXPECT_CODE(manager_->Heartbeat(la.lease_id, "job-404"), kFP);
  FT_EXPECT_CODE(manager_->Report("lease-bogus", a.id(), {ft::testing::LogEvent("x")}, {}), kFP);
  FT_EXPECT_CODE(manager_->Report(lb.lease_id, a.id(), {ft::testing::LogEvent("x")}, {}), kFP);
  FT_EXPECT_CODE(manager_->Complete("lease-bogus", a.id(), ft::v1::SUCCEEDED, ""), kFP);
  FT_EXPECT_CODE(manager_->Complete(lb.lease_id, a.id(), ft::v1::SUCCEEDED, ""), kFP);

  // Nothing changed: both still run, and the right leases still work.
  EXPECT_EQ(Get(a.id()).state(), ft::v1::RUNNING);
  EXPECT_EQ(Get(a.id()).last_event_seq(), 2u);
  EXPECT_EQ(Get(b.id()).state(), ft::v1::RUNNING);
  auto beat = manager_->Heartbeat(la.lease_id, a.id());
  ASSERT_TRUE(beat.ok()) << beat.status();
  EXPECT_FALSE(*beat);
  FT_EXPECT_OK(manager_->Complete(lb.lease_id, b.id(), ft::v1::SUCCEEDED, ""));
}

TEST_F(JobManagerTest, ReportAppendsEventsAndUpdatesTheJob) {
  Job job = Submit();
  Lease lease = Acquire();
  std::vector<JobEvent> batch;
  JobEvent p1 = ft::testing::ProgressEvent(1, 2.0, 8);
  p1.set_seq(999);  // a worker's seq and job id are ignored
  p1.set_job_id("job-other");
  batch.push_back(p1);
  batch.push_back(ft::testing::EvaluationEvent("validation", 1, 1.5, 0.25));
  batch.push_back(ft::testing::LogEvent("hello"));
  batch.push_back(ft::testing::ProgressEvent(2, 1.0, 16));
  auto cancel = manager_->Report(lease.lease_id, job.id(), batch, {0.1, 0.2});
  ASSERT_TRUE(cancel.ok()) << cancel.status();
  EXPECT_FALSE(*cancel);

  ASSERT_TRUE(manager_
                  ->Report(lease.lease_id, job.id(),
                           {ft::testing::EvaluationEvent("test", 2, 1.2, 0.5),
                            ft::testing::EvaluationEvent("validation", 2, 0.9, 0.75)},
                           {})
                  .ok());

  std::vector<JobEvent> events = Events(job.id());
  ASSERT_EQ(events.size(), 8u);  // queued, running, 4 + 2 reports
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].seq(), i + 1);
    EXPECT_EQ(events[i].job_id(), job.id());
    EXPECT_EQ(events[i].attempt(), 1u);
    EXPECT_TRUE(events[i].has_time());
  }
  EXPECT_EQ(events[2].progress().step(), 1u);
  EXPECT_EQ(events[3].evaluation().split(), "validation");
  EXPECT_EQ(events[4].log().message(), "hello");
  EXPECT_EQ(events[5].progress().step(), 2u);
  EXPECT_EQ(events[6].evaluation().split(), "test");

  Job stored = Get(job.id());
  EXPECT_EQ(stored.last_event_seq(), 8u);
  EXPECT_EQ(stored.progress().step(), 2u);
  EXPECT_DOUBLE_EQ(stored.progress().loss(), 1.0);
  ASSERT_EQ(stored.evaluations_size(), 2);  // latest per split
  std::map<std::string, double> accuracy;
  for (const auto& e : stored.evaluations()) accuracy[e.split()] = e.accuracy();
  EXPECT_DOUBLE_EQ(accuracy["validation"], 0.75);
  EXPECT_DOUBLE_EQ(accuracy["test"], 0.5);
  EXPECT_EQ(observer_.steps, (std::vector<double>{0.1, 0.2}));
}

// Per-class metrics and the confusion matrix ride in the stored job's latest evaluation.
TEST_F(JobManagerTest, StoredEvaluationKeepsPerClassMetricsAndConfusion) {
  Job job = Submit();
  Lease lease = Acquire();
  JobEvent event = ft::testing::EvaluationEvent("validation", 3, 0.4, 0.8);
  ft::v1::Evaluation* e = event.mutable_evaluation();
  ft::v1::ClassMetrics* spam = e->add_classes();
  spam->set_label("spam");
  spam->set_recall(0.25);
  e->add_classes()->set_label("ham");
  e->set_macro_f1(0.55);
  for (uint64_t count : {1, 3, 0, 6}) e->add_confusion(count);
  ASSERT_TRUE(manager_->Report(lease.lease_id, job.id(), {event}, {}).ok());
  const Job stored = Get(job.id());
  ASSERT_EQ(stored.evaluations_size(), 1);
  EXPECT_EQ(stored.evaluations(0).SerializeAsString(), e->SerializeAsString());
  EXPECT_EQ(LastEvent(job.id()).evaluation().confusion_size(), 4);
}

TEST_F(JobManagerTest, ReportKeepsTheWorkersEventTime) {
  Job job = Submit();
  Lease lease = Acquire();
  JobEvent event = ft::testing::LogEvent("timed");
  event.mutable_time()->set_seconds(1234);
  ASSERT_TRUE(manager_->Report(lease.lease_id, job.id(), {event}, {}).ok());
  EXPECT_EQ(LastEvent(job.id()).time().seconds(), 1234);
  ASSERT_TRUE(manager_->Report(lease.lease_id, job.id(), {ft::testing::LogEvent("now")}, {}).ok());
  EXPECT_EQ(LastEvent(job.id()).time().seconds(), absl::ToUnixSeconds(clock_.Now()));
}

TEST_F(JobManagerTest, WorkerMayNotReportStateChanges) {
  Job job = Submit();
  Lease lease = Acquire();
  auto result = manager_->Report(
      lease.lease_id, job.id(),
      {ft::testing::ProgressEvent(1, 1.0, 4),
       ft::testing::StateChangeEvent(ft::v1::RUNNING, ft::v1::SUCCEEDED, "I say so")},
      {});
  FT_EXPECT_CODE(result, absl::StatusCode::kInvalidArgument);
  FT_EXPECT_CODE(manager_->Report(lease.lease_id, job.id(), {JobEvent()}, {}),
                 absl::StatusCode::kInvalidArgument);
  // The whole batch was refused: not even the progress event is stored.
  Job stored = Get(job.id());
  EXPECT_EQ(stored.state(), ft::v1::RUNNING);
  EXPECT_EQ(stored.last_event_seq(), 2u);
  EXPECT_FALSE(stored.has_progress());
  EXPECT_EQ(Events(job.id()).size(), 2u);
}

TEST_F(JobManagerTest, CompleteSucceeded) {
  Job job = Submit();
  Lease lease = Acquire();
  clock_.Advance(absl::Seconds(30));
  FT_ASSERT_OK(manager_->Complete(lease.lease_id, job.id(), ft::v1::SUCCEEDED, ""));
  Job stored = Get(job.id());
  EXPECT_EQ(stored.state(), ft::v1::SUCCEEDED);
  EXPECT_TRUE(stored.error().empty());
  EXPECT_EQ(stored.end_time().seconds(), absl::ToUnixSeconds(clock_.Now()));
  JobEvent last = LastEvent(job.id());
  EXPECT_EQ(last.state_change().from(), ft::v1::RUNNING);
  EXPECT_EQ(last.state_change().to(), ft::v1::SUCCEEDED);
  EXPECT_EQ(manager_->active_leases(), 0);
  // The lease is gone.
  FT_EXPECT_CODE(manager_->Heartbeat(lease.lease_id, job.id()),
                 absl::StatusCode::kFailedPrecondition);
  FT_EXPECT_CODE(manager_->Complete(lease.lease_id, job.id(), ft::v1::FAILED, "again"),
                 absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Get(job.id()).state(), ft::v1::SUCCEEDED);
  ExpectContiguous(job.id());
}

TEST_F(JobManagerTest, CompleteFailedKeepsTheError) {
  Job job = Submit();
  Lease lease = Acquire();
  FT_ASSERT_OK(manager_->Complete(lease.lease_id, job.id(), ft::v1::FAILED, "CUDA out of memory"));
  Job stored = Get(job.id());
  EXPECT_EQ(stored.state(), ft::v1::FAILED);
  EXPECT_EQ(stored.error(), "CUDA out of memory");
  EXPECT_TRUE(absl::StrContains(LastEvent(job.id()).state_change().reason(), "CUDA out of memory"));
}

TEST_F(JobManagerTest, CompleteCancelledAndInvalidFinalStates) {
  Job job = Submit();
  Lease lease = Acquire();
  for (JobState bad :
       {ft::v1::JOB_STATE_UNSPECIFIED, ft::v1::QUEUED, ft::v1::RUNNING, ft::v1::CANCELLING}) {
    FT_EXPECT_CODE(manager_->Complete(lease.lease_id, job.id(), bad, ""),
                   absl::StatusCode::kInvalidArgument);
  }
  EXPECT_EQ(Get(job.id()).state(), ft::v1::RUNNING);  // the lease survived the bad calls
  FT_ASSERT_OK(manager_->Complete(lease.lease_id, job.id(), ft::v1::CANCELLED, ""));
  EXPECT_EQ(Get(job.id()).state(), ft::v1::CANCELLED);
}

// --- Cancel ---

TEST_F(JobManagerTest, CancelQueuedEndsAtOnce) {
  Job job = Submit();
  auto cancelled = manager_->Cancel(job.id(), "");
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_EQ(cancelled->state(), ft::v1::CANCELLED);
  EXPECT_EQ(cancelled->error(), "cancelled by request");
  EXPECT_TRUE(cancelled->has_end_time());
  EXPECT_EQ(Get(job.id()).state(), ft::v1::CANCELLED);
  JobEvent last = LastEvent(job.id());
  EXPECT_EQ(last.state_change().from(), ft::v1::QUEUED);
  EXPECT_EQ(last.state_change().to(), ft::v1::CANCELLED);
  auto none = manager_->Acquire("w1");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST_F(JobManagerTest, CancelRunningGoesThroughCancelling) {
  Job job = Submit();
  Lease lease = Acquire();
  auto cancelling = manager_->Cancel(job.id(), "user changed their mind");
  ASSERT_TRUE(cancelling.ok()) << cancelling.status();
  EXPECT_EQ(cancelling->state(), ft::v1::CANCELLING);
  EXPECT_EQ(cancelling->error(), "user changed their mind");
  const uint64_t seq_after_cancel = Get(job.id()).last_event_seq();

  auto beat = manager_->Heartbeat(lease.lease_id, job.id());
  ASSERT_TRUE(beat.ok()) << beat.status();
  EXPECT_TRUE(*beat);
  auto report = manager_->Report(lease.lease_id, job.id(), {ft::testing::LogEvent("stopping")}, {});
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(*report);

  // A second cancel answers the job unchanged, with no new event.
  auto again = manager_->Cancel(job.id(), "twice");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->state(), ft::v1::CANCELLING);
  EXPECT_EQ(Get(job.id()).last_event_seq(), seq_after_cancel + 1);  // only the log line

  FT_ASSERT_OK(manager_->Complete(lease.lease_id, job.id(), ft::v1::CANCELLED, ""));
  Job stored = Get(job.id());
  EXPECT_EQ(stored.state(), ft::v1::CANCELLED);
  EXPECT_EQ(stored.error(), "user changed their mind");
  JobEvent last = LastEvent(job.id());
  EXPECT_EQ(last.state_change().from(), ft::v1::CANCELLING);
  EXPECT_EQ(last.state_change().to(), ft::v1::CANCELLED);
  ExpectContiguous(job.id());
}

TEST_F(JobManagerTest, CancelEndedOrUnknownJob) {
  Job job = Submit();
  Lease lease = Acquire();
  FT_ASSERT_OK(manager_->Complete(lease.lease_id, job.id(), ft::v1::SUCCEEDED, ""));
  const uint64_t seq = Get(job.id()).last_event_seq();
  FT_EXPECT_CODE(manager_->Cancel(job.id(), ""), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Get(job.id()).state(), ft::v1::SUCCEEDED);
  EXPECT_EQ(Get(job.id()).last_event_seq(), seq);

  Job queued = Submit();
  ASSERT_TRUE(manager_->Cancel(queued.id(), "").ok());
  FT_EXPECT_CODE(manager_->Cancel(queued.id(), ""), absl::StatusCode::kFailedPrecondition);
  FT_EXPECT_CODE(manager_->Cancel("job-404", ""), absl::StatusCode::kNotFound);
}

// --- Tick: leases and cancel grace ---

TEST_F(JobManagerTest, ExpiredLeaseRequeuesWithNextAttempt) {
  Job job = Submit();
  Lease lease = Acquire("w1");
  clock_.Advance(options_.lease_timeout - absl::Seconds(1));
  manager_->Tick();
  EXPECT_EQ(Get(job.id()).state(), ft::v1::RUNNING);

  clock_.Advance(absl::Seconds(2));
  manager_->Tick();
  Job stored = Get(job.id());
  EXPECT_EQ(stored.state(), ft::v1::QUEUED);
  EXPECT_EQ(stored.attempt(), 2u);
  EXPECT_TRUE(stored.worker_id().empty());
  JobEvent last = LastEvent(job.id());
  ASSERT_TRUE(last.has_state_change());
  EXPECT_EQ(last.state_change().from(), ft::v1::RUNNING);
  EXPECT_EQ(last.state_change().to(), ft::v1::QUEUED);
  EXPECT_TRUE(absl::StrContains(last.state_change().reason(), "expired"))
      << last.state_change().reason();
  EXPECT_EQ(last.attempt(), 2u);
  EXPECT_EQ(manager_->active_leases(), 0);

  const auto kFP = absl::StatusCode::kFailedPrecondition;
  FT_EXPECT_CODE(manager_->Heartbeat(lease.lease_id, job.id()), kFP);
  FT_EXPECT_CODE(manager_->Report(lease.lease_id, job.id(), {ft::testing::LogEvent("late")}, {}),
                 kFP);
  FT_EXPECT_CODE(manager_->Complete(lease.lease_id, job.id(), ft::v1::SUCCEEDED, ""), kFP);
  EXPECT_EQ(Get(job.id()).state(), ft::v1::QUEUED);

  // The next worker gets it as attempt 2; its events carry that attempt.
  Lease second = Acquire("w2");
  EXPECT_EQ(second.job.id(), job.id());
  EXPECT_EQ(second.job.attempt(), 2u);
  EXPECT_EQ(LastEvent(job.id()).attempt(), 2u);
  EXPECT_TRUE(absl::StrContains(LastEvent(job.id()).state_change().reason(), "attempt 2"));
  ExpectContiguous(job.id());
}

TEST_F(JobManagerTest, HeartbeatsAndReportsKeepTheLeaseAlive) {
  Job job = Submit();
  Lease lease = Acquire();
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(absl::Seconds(10));
    if (i % 2 == 0) {
      ASSERT_TRUE(manager_->Heartbeat(lease.lease_id, job.id()).ok());
    } else {
      ASSERT_TRUE(
          manager_->Report(lease.lease_id, job.id(), {ft::testing::LogEvent("alive")}, {}).ok());
    }
    manager_->Tick();
    EXPECT_EQ(Get(job.id()).state(), ft::v1::RUNNING) << "after " << (i + 1) * 10 << " s";
  }
}

TEST_F(JobManagerTest, ExpiredLeaseOfCancellingJobEndsCancelled) {
  Job job = Submit();
  Acquire();
  ASSERT_TRUE(manager_->Cancel(job.id(), "stop").ok());
  clock_.Advance(options_.lease_timeout + absl::Seconds(1));
  manager_->Tick();
  Job stored = Get(job.id());
  EXPECT_EQ(stored.state(), ft::v1::CANCELLED);
  EXPECT_EQ(stored.attempt(), 1u);
}

TEST_F(JobManagerTest, WorkerIgnoringCancelIsKilledAfterGrace) {
  Job job = Submit();
  Lease lease = Acquire("local-0");
  ASSERT_TRUE(manager_->Cancel(job.id(), "").ok());
  clock_.Advance(options_.cancel_grace - absl::Seconds(1));
  ASSERT_TRUE(manager_->Heartbeat(lease.lease_id, job.id()).ok());
  manager_->Tick();
  EXPECT_TRUE(killer_.killed().empty());

  clock_.Advance(absl::Seconds(2));
  ASSERT_TRUE(manager_->Heartbeat(lease.lease_id, job.id()).ok());  // alive, but not stopping
  manager_->Tick();
  EXPECT_EQ(killer_.killed(), std::vector<std::string>{"local-0"});
  manager_->Tick();
  clock_.Advance(absl::Seconds(1));
  manager_->Tick();
  EXPECT_EQ(killer_.killed().size(), 1u) << "killed once only";
  EXPECT_EQ(Get(job.id()).state(), ft::v1::CANCELLING);

  // The pool then reports the exit; the job ends cancelled.
  manager_->OnWorkerExited("local-0", "was killed by signal 9 (Killed)");
  EXPECT_EQ(Get(job.id()).state(), ft::v1::CANCELLED);
}

TEST_F(JobManagerTest, NoKillWithoutCancel) {
  Job job = Submit();
  Lease lease = Acquire("local-0");
  for (int i = 0; i < 10; ++i) {
    clock_.Advance(absl::Seconds(5));
    ASSERT_TRUE(manager_->Heartbeat(lease.lease_id, job.id()).ok());
    manager_->Tick();
  }
  EXPECT_TRUE(killer_.killed().empty());
}

TEST_F(JobManagerTest, WorkerExitRequeuesItsRunningJobUntilAttemptsRunOut) {
  ASSERT_EQ(options_.max_attempts, 3u);
  Job job = Submit();
  Job other = Submit();
  Lease lease = Acquire("local-0");
  Lease other_lease = Acquire("local-1");
  manager_->OnWorkerExited("local-0", "exited with code 3; last output:\nboom");
  Job stored = Get(job.id());
  EXPECT_EQ(stored.state(), ft::v1::QUEUED);
  EXPECT_EQ(stored.attempt(), 2u);
  const JobEvent requeued = LastEvent(job.id());
  EXPECT_TRUE(absl::StrContains(requeued.state_change().reason(), "exited with code 3"));
  EXPECT_TRUE(absl::StrContains(requeued.state_change().reason(), "boom"));
  EXPECT_EQ(Get(other.id()).state(), ft::v1::RUNNING);
  FT_EXPECT_CODE(manager_->Heartbeat(lease.lease_id, job.id()),
                 absl::StatusCode::kFailedPrecondition);
  FT_EXPECT_OK(manager_->Heartbeat(other_lease.lease_id, other.id()));

  // An exit of a worker without a job changes nothing.
  manager_->OnWorkerExited("local-9", "exited with code 1");
  EXPECT_EQ(Get(other.id()).state(), ft::v1::RUNNING);

  // Attempts 2 and 3 die too: the job fails, saying why and that it gave up.
  EXPECT_EQ(Acquire("local-0").job.attempt(), 2u);
  manager_->OnWorkerExited("local-0", "was killed by signal 9 (Killed)");
  EXPECT_EQ(Get(job.id()).state(), ft::v1::QUEUED);
  EXPECT_EQ(Acquire("local-0").job.attempt(), 3u);
  manager_->OnWorkerExited("local-0", "was killed by signal 9 (Killed)");
  stored = Get(job.id());
  EXPECT_EQ(stored.state(), ft::v1::FAILED);
  EXPECT_EQ(stored.attempt(), 3u);
  EXPECT_TRUE(absl::StrContains(stored.error(), "signal 9")) << stored.error();
  EXPECT_TRUE(absl::StrContains(stored.error(), "gave up after 3 attempts")) << stored.error();
  ExpectContiguous(job.id());
}

// --- Restart recovery ---

TEST_F(JobManagerTest, RecoverAfterRestart) {
  Job running = Submit();
  Job cancelling = Submit();
  Job queued = Submit();
  Acquire("w1");
  Acquire("w2");
  ASSERT_TRUE(manager_->Cancel(cancelling.id(), "stop").ok());
  ASSERT_EQ(Get(cancelling.id()).state(), ft::v1::CANCELLING);

  // A new ftd over the same store: the old leases are gone with the old process.
  manager_.reset();
  EventHub fresh_hub;
  auto manager = JobManager::Create(options_, store_.get(), folders_.get(), &fresh_hub, &clock_,
                                    nullptr, nullptr);
  ASSERT_TRUE(manager.ok()) << manager.status();
  manager_ = std::move(*manager);
  FT_ASSERT_OK(manager_->RecoverAfterRestart());

  Job requeued = Get(running.id());
  EXPECT_EQ(requeued.state(), ft::v1::QUEUED);
  EXPECT_EQ(requeued.attempt(), 2u);
  EXPECT_TRUE(requeued.worker_id().empty());
  JobEvent last = LastEvent(running.id());
  EXPECT_EQ(last.state_change().from(), ft::v1::RUNNING);
  EXPECT_EQ(last.state_change().to(), ft::v1::QUEUED);
  EXPECT_TRUE(absl::StrContains(last.state_change().reason(), "restart"))
      << last.state_change().reason();
  EXPECT_EQ(last.attempt(), 2u);

  EXPECT_EQ(Get(cancelling.id()).state(), ft::v1::CANCELLED);
  EXPECT_EQ(Get(queued.id()).state(), ft::v1::QUEUED);
  EXPECT_EQ(Get(queued.id()).attempt(), 1u);
  ExpectContiguous(running.id());
  ExpectContiguous(cancelling.id());

  // Recovery is idempotent, and the re-queued job keeps its place at the head of the queue.
  FT_ASSERT_OK(manager_->RecoverAfterRestart());
  EXPECT_EQ(Get(running.id()).attempt(), 2u);
  Lease lease = Acquire("w3");
  EXPECT_EQ(lease.job.id(), running.id());
}

// --- Event log file and hub ---

TEST_F(JobManagerTest, FinalJobGetsEventsJsonl) {
  Job job = Submit();
  Lease lease = Acquire();
  ASSERT_TRUE(manager_
                  ->Report(lease.lease_id, job.id(),
                           {ft::testing::ProgressEvent(1, 0.5, 4),
                            ft::testing::EvaluationEvent("validation", 1, 0.4, 0.9)},
                           {})
                  .ok());
  const std::string path = (std::filesystem::path(job.output_dir()) / "events.jsonl").string();
  EXPECT_FALSE(std::filesystem::exists(path)) << "written only once the job has ended";
  FT_ASSERT_OK(manager_->Complete(lease.lease_id, job.id(), ft::v1::SUCCEEDED, ""));

  ASSERT_TRUE(std::filesystem::exists(path));
  const std::string text = ft::testing::ReadFileOrEmpty(path);
  std::vector<std::string> lines = absl::StrSplit(text, '\n', absl::SkipEmpty());
  std::vector<JobEvent> events = Events(job.id());
  ASSERT_EQ(events.size(), 5u);
  ASSERT_EQ(lines.size(), events.size()) << text;
  EXPECT_TRUE(absl::EndsWith(text, "\n"));
  for (size_t i = 0; i < lines.size(); ++i) {
    JobEvent parsed;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(lines[i], &parsed).ok()) << lines[i];
    EXPECT_EQ(parsed.seq(), i + 1);
    EXPECT_EQ(parsed.kind_case(), events[i].kind_case());
  }
  EXPECT_TRUE(absl::StrContains(lines[0], "\"state_change\"")) << "proto field names: " << lines[0];
  // The hub forgot the ended job's cache.
  EXPECT_FALSE(hub_.CachedAfter(job.id(), 0, 100).has_value());
}

TEST_F(JobManagerTest, CancelledQueuedJobGetsEventsJsonl) {
  Job job = Submit();
  ASSERT_TRUE(manager_->Cancel(job.id(), "").ok());
  const std::string text = ft::testing::ReadFileOrEmpty(
      (std::filesystem::path(job.output_dir()) / "events.jsonl").string());
  std::vector<std::string> lines = absl::StrSplit(text, '\n', absl::SkipEmpty());
  EXPECT_EQ(lines.size(), 2u) << text;
}

TEST_F(JobManagerTest, ListenersAreWokenForEveryChange) {
  Job job = Submit();
  auto listener = std::make_shared<CountingListener>();
  hub_.Subscribe(job.id(), listener);
  Lease lease = Acquire();
  EXPECT_EQ(listener->wakeups.load(), 1);
  ASSERT_TRUE(manager_->Report(lease.lease_id, job.id(), {ft::testing::LogEvent("x")}, {}).ok());
  EXPECT_EQ(listener->wakeups.load(), 2);
  auto cached = hub_.CachedAfter(job.id(), 1, 100);
  ASSERT_TRUE(cached.has_value());
  ASSERT_EQ(cached->size(), 2u);
  EXPECT_EQ((*cached)[0].seq(), 2u);
  EXPECT_EQ((*cached)[1].seq(), 3u);
  hub_.Unsubscribe(job.id(), listener.get());
}

TEST_F(JobManagerTest, ObserverSeesEveryTransition) {
  Job job = Submit();
  Lease lease = Acquire();
  ASSERT_TRUE(manager_->Cancel(job.id(), "").ok());
  ASSERT_TRUE(manager_->Complete(lease.lease_id, job.id(), ft::v1::CANCELLED, "").ok());
  ASSERT_EQ(observer_.changes.size(), 3u);
  EXPECT_EQ(observer_.changes[0].from, ft::v1::QUEUED);
  EXPECT_EQ(observer_.changes[0].to, ft::v1::RUNNING);
  EXPECT_EQ(observer_.changes[1].to, ft::v1::CANCELLING);
  EXPECT_EQ(observer_.changes[2].from, ft::v1::CANCELLING);
  EXPECT_EQ(observer_.changes[2].to, ft::v1::CANCELLED);
}

// Cancels the job from another thread while Acquire is between storing RUNNING and creating
// the lease (observers run in that window), then lets Acquire go on.
class CancelDuringAcquireObserver : public JobObserver {
 public:
  void OnJobStateChanged(const Job& job, JobState from) override {
    if (from != ft::v1::QUEUED || job.state() != ft::v1::RUNNING || manager == nullptr) return;
    std::thread canceller([this, id = job.id()] {
      cancel_result = manager->Cancel(id, "cancel raced with acquire").status();
    });
    // Give the cancel time to finish if nothing holds it back; a manager that serializes cancel
    // with acquire makes it wait for Acquire instead.
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    canceller_thread = std::move(canceller);
  }
  JobManager* manager = nullptr;
  std::thread canceller_thread;
  absl::Status cancel_result;
};

TEST(JobManagerRaceTest, CancelRacingAcquireStillReachesTheWorker) {
  ft::testing::TempDir dir;
  const std::string csv = dir.Write("train.csv", ft::testing::SmallCsv());
  auto store = store::JobStore::Open(dir.Path("ftd.db"));
  ASSERT_TRUE(store.ok());
  EventHub hub;
  FakeClock clock;
  CancelDuringAcquireObserver observer;
  JobManagerOptions options;
  auto folders = ft::testing::JobFoldersIn(dir.Path("home"));
  auto manager =
      JobManager::Create(options, store->get(), folders.get(), &hub, &clock, &observer, nullptr);
  ASSERT_TRUE(manager.ok());
  observer.manager = manager->get();
  auto submitted = (*manager)->Submit(ft::testing::ValidSpec(csv), "");
  ASSERT_TRUE(submitted.ok());
  auto lease = (*manager)->Acquire("w1");
  ASSERT_TRUE(lease.ok() && lease->has_value());
  observer.canceller_thread.join();
  FT_ASSERT_OK(observer.cancel_result);
  auto job = (*manager)->Get(submitted->job.id());
  ASSERT_TRUE(job.ok());
  ASSERT_EQ(job->state(), ft::v1::CANCELLING);
  // The worker must hear about the cancel, else it trains on to the end.
  auto cancel = (*manager)->Heartbeat((*lease)->lease_id, job->id());
  ASSERT_TRUE(cancel.ok()) << cancel.status();
  EXPECT_TRUE(*cancel) << "the cancel was lost: the lease was created after it";
}

TEST(JobManagerCreateTest, RequiresAStoreAndJobFiles) {
  ft::testing::TempDir dir;
  auto store = store::JobStore::Open(dir.Path("ftd.db"));
  ASSERT_TRUE(store.ok());
  EventHub hub;
  FakeClock clock;
  JobManagerOptions options;
  FT_EXPECT_CODE(JobManager::Create(options, store->get(), nullptr, &hub, &clock, nullptr, nullptr),
                 absl::StatusCode::kInvalidArgument);
  FT_EXPECT_CODE(store::JobFolders::Create(""), absl::StatusCode::kInvalidArgument);
  auto folders = store::JobFolders::Create(dir.Path("home"));
  ASSERT_TRUE(folders.ok()) << folders.status();
  EXPECT_TRUE(std::filesystem::is_directory(dir.Path("home/jobs")));
  auto manager =
      JobManager::Create(options, store->get(), folders->get(), &hub, &clock, nullptr, nullptr);
  ASSERT_TRUE(manager.ok()) << manager.status();
}

// The scheduler's files go through store::JobFiles: what it asks for, recorded in memory.
class RecordingJobFiles : public store::JobFiles {
 public:
  std::string FolderFor(const std::string& job_id) override { return "/folders/" + job_id; }
  absl::Status WriteEventLog(const Job& job, const std::vector<JobEvent>& events) override {
    event_logs[job.id()] = events;
    return absl::OkStatus();
  }
  uint64_t RemoveFolder(const Job& job) override {
    removed.push_back(job.output_dir());
    return 42;
  }

  std::map<std::string, std::vector<JobEvent>> event_logs;
  std::vector<std::string> removed;
};

TEST(JobManagerFilesTest, FoldersAndEventLogsGoThroughTheInjectedFiles) {
  ft::testing::TempDir dir;
  const std::string csv = dir.Write("train.csv", ft::testing::SmallCsv());
  auto store = store::JobStore::Open(dir.Path("ftd.db"));
  ASSERT_TRUE(store.ok());
  EventHub hub;
  FakeClock clock;
  RecordingJobFiles files;
  auto manager =
      JobManager::Create(JobManagerOptions(), store->get(), &files, &hub, &clock, nullptr, nullptr);
  ASSERT_TRUE(manager.ok()) << manager.status();
  auto submitted = (*manager)->Submit(ft::testing::ValidSpec(csv), "");
  ASSERT_TRUE(submitted.ok()) << submitted.status();
  const Job& job = submitted->job;
  EXPECT_EQ(job.output_dir(), "/folders/" + job.id());
  EXPECT_TRUE(files.event_logs.empty()) << "written only once the job has ended";

  FT_ASSERT_OK((*manager)->Cancel(job.id(), "stop"));
  ASSERT_EQ(files.event_logs.count(job.id()), 1u);
  const std::vector<JobEvent>& log = files.event_logs[job.id()];
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[1].state_change().to(), ft::v1::CANCELLED);

  auto freed = (*manager)->Delete(job.id(), "test");
  ASSERT_TRUE(freed.ok()) << freed.status();
  EXPECT_EQ(*freed, 42u);
  EXPECT_EQ(files.removed, std::vector<std::string>{"/folders/" + job.id()});
}

}  // namespace
}  // namespace ft::sched
