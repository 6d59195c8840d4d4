// Checkpoints beside the writers (store/wal_checkpointer.h): the writers' commits leave the WAL
// growing, a checkpoint copies it into the database file, and the job store keeps every job
// through checkpoints and reopening.
#include "server/store/wal_checkpointer.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "server/store/job_store.h"
#include "server/store/sqlite_db.h"
#include "tests/support/temp_dir.h"

namespace ft::store {
namespace {

TEST(WalCheckpointerTest, CopiesTheWalIntoTheDatabase) {
  ft::testing::TempDir dir;
  const std::string path = dir.Path("t.db");
  auto db = SqliteDb::Open(path, {"CREATE TABLE t (x BLOB);"});
  ASSERT_TRUE(db.ok()) << db.status();
  ASSERT_TRUE((*db)->Exec("PRAGMA wal_autocheckpoint=0").ok());
  auto checkpointer = WalCheckpointer::Start(path, absl::ZeroDuration());  // RunOnce only
  ASSERT_TRUE(checkpointer.ok()) << checkpointer.status();
  ASSERT_TRUE((*checkpointer)->RunOnce().ok());
  const auto size_before = std::filesystem::file_size(path);
  for (int i = 0; i < 300; ++i) {
    auto insert = (*db)->Prepare("INSERT INTO t VALUES (randomblob(4000))");
    ASSERT_TRUE(insert.ok());
    ASSERT_TRUE(insert->Run().ok());
  }
  // Nothing checkpointed the WAL by itself: the database file has not grown.
  EXPECT_EQ(std::filesystem::file_size(path), size_before);
  auto copied = (*checkpointer)->RunOnce();
  ASSERT_TRUE(copied.ok()) << copied.status();
  EXPECT_GT(*copied, 300);  // at least a page per row
  EXPECT_GT(std::filesystem::file_size(path), size_before + 300 * 4000);
}

TEST(WalCheckpointerTest, TheStoreKeepsEveryJobAcrossItsCheckpoints) {
  ft::testing::TempDir dir;
  const std::string path = dir.Path("ftd.db");
  {
    auto store = JobStore::Open(path);
    ASSERT_TRUE(store.ok()) << store.status();
    for (int i = 0; i < 400; ++i) {
      auto created = (*store)->CreateJob(
          RequestKey("user", std::to_string(i)),
          [](ft::v1::Job& job, std::vector<ft::v1::JobEvent>& events) {
            job.set_state(ft::v1::QUEUED);
            events.emplace_back().mutable_state_change()->set_to(ft::v1::QUEUED);
            return absl::OkStatus();
          });
      ASSERT_TRUE(created.ok()) << created.status();
    }
  }
  auto reopened = JobStore::Open(path);
  ASSERT_TRUE(reopened.ok());
  auto queued = (*reopened)->CountJobs(ft::v1::QUEUED);
  ASSERT_TRUE(queued.ok());
  EXPECT_EQ(*queued, 400);
}

}  // namespace
}  // namespace ft::store
