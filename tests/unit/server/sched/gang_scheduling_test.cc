// Gang scheduling of data-parallel jobs (spec.world_size > 1) in JobManager: on a real store in a
// temp dir and a FakeClock; workers are only names that call Acquire, Heartbeat and Complete.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "server/sched/clock.h"
#include "server/sched/event_hub.h"
#include "server/sched/job_manager.h"
#include "server/store/job_store.h"
#include "tests/unit/server/sched/job_manager_fixture.h"
#include "tests/unit/server/server_test_util.h"

namespace ft::sched {
namespace {

using ft::testing::TempDir;
using ft::v1::Job;
using ft::v1::JobEvent;
using ft::v1::JobSpec;

class RankObserver : public JobObserver {
 public:
  void OnJobEvents(const Job& job, const std::vector<JobEvent>& events,
                   const std::vector<double>& step_seconds) override {
    absl::MutexLock lock(&mu_);
    steps.insert(steps.end(), step_seconds.begin(), step_seconds.end());
  }
  void OnRankProgress(const std::string& job_id, uint32_t rank,
                      const ft::v1::TrainingProgress& progress) override {
    absl::MutexLock lock(&mu_);
    communication_by_rank[rank] = progress.communication_seconds();
  }
  absl::Mutex mu_;
  std::vector<double> steps;
  std::map<uint32_t, double> communication_by_rank;
};

class GangSchedulingTest : public JobManagerFixture<RankObserver> {
 protected:
  void SetUp() override {
    options_.lease_timeout = absl::Seconds(15);
    options_.idle_worker_window = absl::Seconds(2);
    Start();
  }

  Job Submit(uint32_t world_size) {
    JobSpec spec = ft::testing::ValidSpec(csv_);
    spec.set_world_size(world_size);
    auto result = manager_->Submit(spec, "");
    EXPECT_TRUE(result.ok()) << result.status();
    clock_.Advance(absl::Milliseconds(100));
    return result.ok() ? result->job : Job();
  }

  std::optional<Lease> Poll(const std::string& worker) {
    auto lease = manager_->Acquire(worker);
    EXPECT_TRUE(lease.ok()) << lease.status();
    return lease.ok() ? *lease : std::nullopt;
  }

  std::string AllEventText(const std::string& id) {
    std::string text;
    for (const JobEvent& e : Events(id)) {
      text += e.has_log() ? e.log().message() : e.state_change().reason();
      text += "\n";
    }
    return text;
  }

  // A gang of two on w1 and w2: w1 asks first (and waits), w2 completes the gang as rank 0, w1
  // picks up rank 1.
  std::pair<Lease, Lease> FormPair(const Job& job) {
    EXPECT_FALSE(Poll("w1").has_value());
    std::optional<Lease> rank0 = Poll("w2");
    EXPECT_TRUE(rank0.has_value());
    std::optional<Lease> rank1 = Poll("w1");
    EXPECT_TRUE(rank1.has_value());
    if (!rank0 || !rank1) return {};
    EXPECT_EQ(rank0->job.id(), job.id());
    return {*rank0, *rank1};
  }

};

TEST_F(GangSchedulingTest, GangFormsOnlyWhenWorldSizeWorkersAreIdleAndGivesEachItsRank) {
  const Job job = Submit(2);
  EXPECT_FALSE(Poll("w1").has_value()) << "one free worker must not start a job of two";
  EXPECT_EQ(Get(job.id()).state(), ft::v1::QUEUED);
  EXPECT_EQ(manager_->active_leases(), 0) << "nothing is held while the gang cannot form";
  auto [rank0, rank1] = FormPair(job);
  EXPECT_EQ(rank0.rank, 0u);
  EXPECT_EQ(rank1.rank, 1u);
  EXPECT_EQ(rank0.world_size, 2u);
  EXPECT_EQ(rank1.world_size, 2u);
  EXPECT_FALSE(rank0.rendezvous_key.empty());
  EXPECT_EQ(rank0.rendezvous_key, rank1.rendezvous_key);
  EXPECT_NE(rank0.lease_id, rank1.lease_id);
  EXPECT_EQ(rank1.job.id(), job.id());
  const Job running = Get(job.id());
  EXPECT_EQ(running.state(), ft::v1::RUNNING);
  EXPECT_EQ(running.worker_id(), "w2");
  EXPECT_TRUE(running.waiting_reason().empty());
  EXPECT_EQ(manager_->active_leases(), 2);
  EXPECT_TRUE(absl::StrContains(AllEventText(job.id()), "w1 (rank 1)"));
}

TEST_F(GangSchedulingTest, AWorkerSilentPastTheIdleWindowIsNotCounted) {
  const Job job = Submit(2);
  EXPECT_FALSE(Poll("w1").has_value());
  clock_.Advance(absl::Seconds(3));
  EXPECT_FALSE(Poll("w2").has_value()) << "w1 stopped asking: it may be gone";
  EXPECT_TRUE(Poll("w1").has_value()) << "both asked within the window now";
  EXPECT_EQ(Get(job.id()).state(), ft::v1::RUNNING);
}

TEST_F(GangSchedulingTest, TwoBigJobsNeverHoldPartsOfEachOtherAndBothFinish) {
  const Job a = Submit(2);
  const Job b = Submit(2);
  auto [a0, a1] = FormPair(a);
  // w3 is free, but b needs two: it waits and holds nothing.
  EXPECT_FALSE(Poll("w3").has_value());
  EXPECT_EQ(Get(b.id()).state(), ft::v1::QUEUED);
  EXPECT_TRUE(absl::StrContains(Get(b.id()).waiting_reason(), "waiting for 2 workers"))
      << Get(b.id()).waiting_reason();
  EXPECT_EQ(manager_->active_leases(), 2);
  FT_ASSERT_OK(manager_->Complete(a1.lease_id, a.id(), ft::v1::SUCCEEDED, ""));
  EXPECT_EQ(Get(a.id()).state(), ft::v1::RUNNING) << "rank 0 reports the gang's outcome";
  FT_ASSERT_OK(manager_->Complete(a0.lease_id, a.id(), ft::v1::SUCCEEDED, ""));
  EXPECT_EQ(Get(a.id()).state(), ft::v1::SUCCEEDED);
  std::optional<Lease> b0 = Poll("w1");
  ASSERT_TRUE(b0.has_value()) << "w1 and w3 are idle together";
  EXPECT_EQ(b0->job.id(), b.id());
  std::optional<Lease> b1 = Poll("w3");
  ASSERT_TRUE(b1.has_value());
  EXPECT_EQ(b1->rank, 1u);
  EXPECT_NE(b1->rendezvous_key, a0.rendezvous_key);
}

TEST_F(GangSchedulingTest, AGangThatCanFormBlocksSmallerJobsBehindItSoItIsNotStarved) {
  const Job first = Submit(1);
  std::optional<Lease> busy = Poll("w2");
  ASSERT_TRUE(busy.has_value());
  const Job big = Submit(2);
  const Job small = Submit(1);
  EXPECT_FALSE(Poll("w1").has_value()) << "the small job must not take the gang's worker";
  EXPECT_EQ(Get(small.id()).state(), ft::v1::QUEUED);
  FT_ASSERT_OK(manager_->Complete(busy->lease_id, first.id(), ft::v1::SUCCEEDED, ""));
  std::optional<Lease> rank0 = Poll("w2");
  ASSERT_TRUE(rank0.has_value());
  EXPECT_EQ(rank0->job.id(), big.id());
  EXPECT_EQ(Get(small.id()).state(), ft::v1::QUEUED);
}

TEST_F(GangSchedulingTest, AJobBiggerThanTheConnectedWorkersWaitsWithAReasonAndDoesNotBlock) {
  const Job huge = Submit(3);
  const Job small = Submit(1);
  std::optional<Lease> lease = Poll("w1");
  ASSERT_TRUE(lease.has_value()) << "the job of 3 must not block the queue with 1 worker";
  EXPECT_EQ(lease->job.id(), small.id());
  const Job waiting = Get(huge.id());
  EXPECT_EQ(waiting.state(), ft::v1::QUEUED);
  EXPECT_TRUE(absl::StrContains(waiting.waiting_reason(), "needs 3 workers at once; ftd has 1"))
      << waiting.waiting_reason();
  EXPECT_TRUE(absl::StrContains(AllEventText(huge.id()), "--local-workers"));
  // The same reason is logged once, not at every poll.
  const uint64_t seq = Get(huge.id()).last_event_seq();
  EXPECT_FALSE(Poll("w1").has_value());
  EXPECT_EQ(Get(huge.id()).last_event_seq(), seq);
}

TEST_F(GangSchedulingTest, ALostRankLeaseEndsTheAttemptForTheWholeGangAndRequeues) {
  const Job job = Submit(2);
  auto [rank0, rank1] = FormPair(job);
  clock_.Advance(absl::Seconds(10));
  FT_ASSERT_OK(manager_->Heartbeat(rank0.lease_id, job.id()).status());
  clock_.Advance(absl::Seconds(6));  // rank 1 silent for 16 s, rank 0 for 6 s
  manager_->Tick();
  const Job requeued = Get(job.id());
  EXPECT_EQ(requeued.state(), ft::v1::QUEUED);
  EXPECT_EQ(requeued.attempt(), 2u);
  EXPECT_EQ(manager_->active_leases(), 0);
  FT_EXPECT_CODE(manager_->Heartbeat(rank0.lease_id, job.id()),
                 absl::StatusCode::kFailedPrecondition);
  const std::string text = AllEventText(job.id());
  EXPECT_TRUE(absl::StrContains(text, "worker w1 (rank 1 of 2)")) << text;
  EXPECT_TRUE(absl::StrContains(text, "ends for all 2 ranks")) << text;
  // The next attempt forms a new gang under a new key.
  std::optional<Lease> again = Poll("w1");
  EXPECT_FALSE(again.has_value());
  again = Poll("w2");
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->job.attempt(), 2u);
  EXPECT_NE(again->rendezvous_key, rank0.rendezvous_key);
}

TEST_F(GangSchedulingTest, ARankLeaseNeverPickedUpExpiresAndRequeues) {
  const Job job = Submit(2);
  EXPECT_FALSE(Poll("w1").has_value());
  std::optional<Lease> rank0 = Poll("w2");
  ASSERT_TRUE(rank0.has_value());
  clock_.Advance(absl::Seconds(16));  // w1 died before asking again
  FT_ASSERT_OK(manager_->Heartbeat(rank0->lease_id, job.id()).status());
  manager_->Tick();
  EXPECT_EQ(Get(job.id()).state(), ft::v1::QUEUED);
  EXPECT_TRUE(absl::StrContains(AllEventText(job.id()), "did not pick up its lease"));
  EXPECT_FALSE(Poll("w1").has_value()) << "the stale rank 1 lease must not be handed out";
}

TEST_F(GangSchedulingTest, AnExitedOrFailingRankEndsTheGangAndTheLastAttemptFails) {
  options_.max_attempts = 2;
  Recreate();
  const Job job = Submit(2);
  auto [rank0, rank1] = FormPair(job);
  manager_->OnWorkerExited("w1", "exited with signal 9");
  EXPECT_EQ(Get(job.id()).state(), ft::v1::QUEUED);
  FT_EXPECT_CODE(manager_->Heartbeat(rank0.lease_id, job.id()),
                 absl::StatusCode::kFailedPrecondition);
  auto [second0, second1] = FormPair(job);
  FT_ASSERT_OK(manager_->Complete(second1.lease_id, job.id(), ft::v1::FAILED,
                                  "c10d: connection reset by peer"));
  const Job failed = Get(job.id());
  EXPECT_EQ(failed.state(), ft::v1::FAILED);
  EXPECT_TRUE(absl::StrContains(failed.error(), "rank 1 of 2) failed: c10d")) << failed.error();
  EXPECT_EQ(manager_->active_leases(), 0);
}

TEST_F(GangSchedulingTest, RankZeroReportsTheStoreAndTheOtherRanksLearnIt) {
  const Job job = Submit(2);
  auto [rank0, rank1] = FormPair(job);
  auto before = manager_->Rendezvous(rank1.lease_id, job.id(), {});
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_EQ(before->port, 0u) << "rank 0 has not reported yet";
  FT_EXPECT_CODE(manager_->Rendezvous(rank1.lease_id, job.id(), {"10.0.0.9", 4000}),
                 absl::StatusCode::kInvalidArgument);
  FT_ASSERT_OK(manager_->Rendezvous(rank0.lease_id, job.id(), {"10.0.0.1", 29500}).status());
  auto after = manager_->Rendezvous(rank1.lease_id, job.id(), {});
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->host, "10.0.0.1");
  EXPECT_EQ(after->port, 29500u);
  EXPECT_TRUE(absl::StrContains(AllEventText(job.id()), "rendezvous at 10.0.0.1:29500"));
}

TEST_F(GangSchedulingTest, OnlyRankZeroWritesTheLogButEveryRankFeedsTheMetrics) {
  const Job job = Submit(2);
  auto [rank0, rank1] = FormPair(job);
  const uint64_t seq = Get(job.id()).last_event_seq();
  auto progress = [](double communication) {
    JobEvent event;
    event.mutable_progress()->set_step(3);
    event.mutable_progress()->set_communication_seconds(communication);
    return event;
  };
  FT_ASSERT_OK(manager_->Report(rank1.lease_id, job.id(), {progress(0.25)}, {0.5, 0.6}).status());
  EXPECT_EQ(Get(job.id()).last_event_seq(), seq) << "rank 1's events are not the job's log";
  FT_ASSERT_OK(manager_->Report(rank0.lease_id, job.id(), {progress(0.125)}, {0.7}).status());
  EXPECT_EQ(Get(job.id()).last_event_seq(), seq + 1);
  absl::MutexLock lock(&observer_.mu_);
  EXPECT_EQ(observer_.steps, (std::vector<double>{0.5, 0.6, 0.7}));
  EXPECT_DOUBLE_EQ(observer_.communication_by_rank[0], 0.125);
  EXPECT_DOUBLE_EQ(observer_.communication_by_rank[1], 0.25);
}

TEST_F(GangSchedulingTest, CancelReachesEveryRank) {
  const Job job = Submit(2);
  auto [rank0, rank1] = FormPair(job);
  FT_ASSERT_OK(manager_->Cancel(job.id(), "").status());
  auto cancel0 = manager_->Heartbeat(rank0.lease_id, job.id());
  auto cancel1 = manager_->Heartbeat(rank1.lease_id, job.id());
  ASSERT_TRUE(cancel0.ok() && cancel1.ok());
  EXPECT_TRUE(*cancel0);
  EXPECT_TRUE(*cancel1);
}

TEST_F(GangSchedulingTest, SubmitRefusesWorldSizesThatCannotWorkNamingTheField) {
  JobSpec spec = ft::testing::ValidSpec(csv_);
  spec.set_world_size(5000);
  auto result = manager_->Submit(spec, "");
  ASSERT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(result.status().message(), "spec.world_size: must be 1..1024"))
      << result.status();
  spec.set_world_size(2);
  spec.set_auto_micro_batch(true);
  spec.set_effective_batch_size(8);
  result = manager_->Submit(spec, "");
  ASSERT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(result.status().message(), "spec.auto_micro_batch"))
      << result.status();
}

}  // namespace
}  // namespace ft::sched
