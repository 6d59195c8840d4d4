// Group commit (store/wal_sync.h): one fdatasync covers every commit made before it started, a
// missing WAL file means nothing is left to sync, and concurrent writers through the real store
// all end durable and visible after reopening.
#include "server/store/wal_sync.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "server/store/job_store.h"
#include "tests/support/temp_dir.h"

namespace ft::store {
namespace {

TEST(WalSyncTest, OneSyncCoversEveryEarlierCommit) {
  ft::testing::TempDir dir;
  const std::string wal = dir.Write("db-wal", "frames");
  WalSync sync(wal);
  uint64_t last = 0;
  for (int i = 0; i < 10; ++i) last = sync.Committed();
  EXPECT_EQ(last, 10u);
  ASSERT_TRUE(sync.WaitDurable(last).ok());
  EXPECT_EQ(sync.syncs(), 1u);
  ASSERT_TRUE(sync.WaitDurable(3).ok());  // already covered: no second sync
  EXPECT_EQ(sync.syncs(), 1u);
  ASSERT_TRUE(sync.WaitDurable(sync.Committed()).ok());  // a later commit needs its own
  EXPECT_EQ(sync.syncs(), 2u);
}

TEST(WalSyncTest, MissingWalMeansCheckpointed) {
  ft::testing::TempDir dir;
  WalSync sync(dir.Path("absent-wal"));
  EXPECT_TRUE(sync.WaitDurable(sync.Committed()).ok());
}

TEST(WalSyncTest, ConcurrentWritersThroughTheStoreAllPersist) {
  ft::testing::TempDir dir;
  const std::string path = dir.Path("ftd.db");
  constexpr int kThreads = 8;
  constexpr int kJobsEach = 20;
  {
    auto store = JobStore::Open(path);
    ASSERT_TRUE(store.ok()) << store.status();
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kJobsEach; ++i) {
          auto created = (*store)->CreateJob(
              RequestKey("user", std::to_string(t) + "-" + std::to_string(i)),
              [](ft::v1::Job& job, std::vector<ft::v1::JobEvent>& events) {
                job.set_state(ft::v1::QUEUED);
                events.emplace_back().mutable_state_change()->set_to(ft::v1::QUEUED);
                return absl::OkStatus();
              });
          EXPECT_TRUE(created.ok() && created->created) << created.status();
        }
      });
    }
    for (auto& thread : threads) thread.join();
  }
  auto reopened = JobStore::Open(path);
  ASSERT_TRUE(reopened.ok());
  auto counts = (*reopened)->CountByState();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ((*counts)[ft::v1::QUEUED], kThreads * kJobsEach);
}

}  // namespace
}  // namespace ft::store
