// A data-parallel lease through WorkerLoop, with a fake ftd (fake_worker_link.h) and a fake
// trainer that records the DistributedOptions it gets: rank 0 hosts the store and reports its
// address; the other ranks wait for that address before training. No gRPC, no LibTorch.
#include <atomic>
#include <optional>
#include <string>

#include "common/spec/spec_defaults.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"
#include "tests/unit/worker/daemon/fake_worker_link.h"
#include "worker/daemon/worker_loop.h"

namespace ft::worker {
namespace {

class GangWorkerTest : public ::testing::Test {
 protected:
  GangWorkerTest() {
    csv_ = dir_.Write("train.csv", "text,label\na fine film,1\na dull film,0\ngreat,1\nbad,0\n");
    ftd_.SetWhenIdle(&shutdown_);
  }

  ft::v1::AcquireJobResponse GangLease(uint32_t rank) {
    ft::v1::JobSpec spec;
    spec.set_model("scratch:bloom-tiny");
    spec.mutable_dataset()->set_train(csv_);
    spec.set_micro_batch_size(2);
    spec.set_accumulation_steps(2);
    spec.set_epochs(1);
    spec.set_world_size(2);
    ft::v1::AcquireJobResponse lease;
    lease.set_lease_id("lease-r" + std::to_string(rank));
    lease.set_heartbeat_interval_ms(10);
    lease.set_lease_timeout_ms(7000);
    lease.set_rank(rank);
    lease.set_world_size(2);
    lease.set_rendezvous_key("job-1-attempt1-abc");
    ft::v1::Job* job = lease.mutable_job();
    job->set_id("job-1");
    job->set_attempt(1);
    job->set_output_dir(dir_.Path("jobs/job-1"));
    *job->mutable_spec() = spec::WithDefaults(spec, dir_.path().string());
    return lease;
  }

  // Runs the loop on the queued leases; the trainer records its options and, as rank 0's
  // trainer does once its store listens, calls on_store_listening.
  void Run() {
    WorkerLoopOptions options;
    options.server = "fake";
    options.worker_id = "w1";
    options.idle_poll_ms = 10;
    options.advertise_host = "10.1.2.3";
    WorkerLoop loop(
        options, &ftd_,
        [this](const train::TrainOptions& train_options, train::TrainObserver*) {
          seen_ = train_options.distributed;
          heartbeats_before_training_ = static_cast<int>(ftd_.heartbeats().size());
          if (train_options.distributed.on_store_listening) {
            train_options.distributed.on_store_listening(41234);
          }
          train::TrainOutcome outcome;
          outcome.status = train::TrainOutcome::Status::kSucceeded;
          return outcome;
        },
        &shutdown_);
    EXPECT_EQ(loop.Run(), 0);
  }

  ft::testing::TempDir dir_;
  std::string csv_;
  FakeWorkerLink ftd_;
  std::atomic<bool> shutdown_{false};
  std::optional<train::DistributedOptions> seen_;
  int heartbeats_before_training_ = 0;
};

TEST_F(GangWorkerTest, RankZeroHostsTheStoreOnAFreePortAndReportsItsAddress) {
  ftd_.QueueLease(GangLease(0));
  Run();
  ASSERT_TRUE(seen_.has_value()) << "rank 0 trains at once";
  EXPECT_EQ(seen_->rank, 0);
  EXPECT_EQ(seen_->world_size, 2);
  EXPECT_EQ(seen_->store_host, "10.1.2.3");
  EXPECT_EQ(seen_->store_port, 0);
  EXPECT_EQ(seen_->store_prefix, "job-1-attempt1-abc");
  EXPECT_DOUBLE_EQ(seen_->timeout_seconds, 7.0) << "c10d gives up within the lease timeout";
  bool reported = false;
  for (const auto& heartbeat : ftd_.heartbeats()) {
    if (heartbeat.store_port() == 41234 && heartbeat.store_host() == "10.1.2.3" &&
        heartbeat.lease_id() == "lease-r0") {
      reported = true;
    }
  }
  EXPECT_TRUE(reported) << "ftd must learn where rank 0's store listens";
  ASSERT_EQ(ftd_.completes().size(), 1u);
}

TEST_F(GangWorkerTest, OtherRanksTrainOnlyOnceFtdKnowsRankZerosStore) {
  ftd_.AnswerStoreAfter(3, "10.9.9.9", 29500);
  ftd_.QueueLease(GangLease(1));
  Run();
  ASSERT_TRUE(seen_.has_value());
  EXPECT_EQ(seen_->rank, 1);
  EXPECT_EQ(seen_->world_size, 2);
  EXPECT_EQ(seen_->store_host, "10.9.9.9");
  EXPECT_EQ(seen_->store_port, 29500);
  EXPECT_EQ(seen_->store_prefix, "job-1-attempt1-abc");
  EXPECT_FALSE(seen_->on_store_listening) << "only rank 0 reports a store";
  EXPECT_GE(heartbeats_before_training_, 3);
}

TEST_F(GangWorkerTest, ARankWhoseGangEndsBeforeRankZeroReportsNeverTrains) {
  ftd_.LoseLease();
  ftd_.QueueLease(GangLease(1));
  Run();
  EXPECT_FALSE(seen_.has_value());
  EXPECT_TRUE(ftd_.completes().empty()) << "ftd re-queued the job; nothing to report";
}

TEST_F(GangWorkerTest, ACancelWhileWaitingForRankZeroEndsTheRankCancelled) {
  ftd_.RequestCancel();
  ftd_.QueueLease(GangLease(1));
  Run();
  EXPECT_FALSE(seen_.has_value());
  ASSERT_EQ(ftd_.completes().size(), 1u);
  EXPECT_EQ(ftd_.completes()[0].final_state(), ft::v1::CANCELLED);
}

}  // namespace
}  // namespace ft::worker
