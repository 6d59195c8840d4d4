// DeleteJob and the retention policy on a real store and job manager (FakeClock, real folders),
// per-owner request ids and listing, and the v1 -> v2 schema migration.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "server/housekeeping/disk_usage.h"
#include "server/housekeeping/retention.h"
#include "server/housekeeping/token_cache_trim.h"
#include "server/sched/clock.h"
#include "server/sched/event_hub.h"
#include "server/sched/job_manager.h"
#include "server/store/job_store.h"
#include "server/store/sqlite_db.h"
#include "tests/unit/server/server_test_util.h"

namespace ft::housekeeping {
namespace {

using ft::testing::TempDir;
using ft::v1::Job;
namespace fs = std::filesystem;

class HousekeepingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    csv_ = dir_.Write("data/train.csv", ft::testing::SmallCsv());
    auto store = store::JobStore::Open(dir_.Path("ftd.db"));
    FT_ASSERT_OK(store);
    store_ = std::move(*store);
    sched::JobManagerOptions options;
    options.base_dir = dir_.path().string();
    folders_ = ft::testing::JobFoldersIn(dir_.Path("home"));
    auto manager = sched::JobManager::Create(options, store_.get(), folders_.get(), &hub_, &clock_,
                                             nullptr, nullptr);
    FT_ASSERT_OK(manager);
    manager_ = std::move(*manager);
  }

  // A job that ended (cancelled while queued) at the clock's time, with `bytes` in its folder.
  Job EndedJob(uint64_t bytes) {
    auto result = manager_->Submit(ft::testing::ValidSpec(csv_), "");
    EXPECT_TRUE(result.ok()) << result.status();
    auto job = manager_->Cancel(result->job.id(), "test");
    EXPECT_TRUE(job.ok()) << job.status();
    dir_.Write("home/jobs/" + job->id() + "/model.safetensors", std::string(bytes, 'm'));
    clock_.Advance(absl::Hours(1));
    return *job;
  }

  // A job that SUCCEEDED, with a checkpoints/ folder and a model.
  Job SucceededJob() {
    auto result = manager_->Submit(ft::testing::ValidSpec(csv_), "");
    EXPECT_TRUE(result.ok()) << result.status();
    auto lease = manager_->Acquire("w1");
    EXPECT_TRUE(lease.ok() && lease->has_value());
    FT_EXPECT_OK(manager_->Complete((*lease)->lease_id, result->job.id(), ft::v1::SUCCEEDED, ""));
    dir_.Write("home/jobs/" + result->job.id() + "/model.safetensors", std::string(50, 'm'));
    dir_.Write("home/jobs/" + result->job.id() + "/checkpoints/step-4/state.bin",
               std::string(70, 'c'));
    clock_.Advance(absl::Hours(1));
    return *manager_->Get(result->job.id());
  }

  bool Exists(const Job& job) { return manager_->Get(job.id()).ok(); }
  bool FolderExists(const Job& job) { return fs::exists(dir_.Path("home/jobs/" + job.id())); }

  absl::StatusOr<RetentionResult> Run(RetentionOptions options) {
    Retention retention(options, dir_.Path("home"), store_.get(), manager_.get(), &clock_);
    return retention.RunOnce();
  }

  static RetentionOptions Off() {
    RetentionOptions options;
    options.max_age = absl::ZeroDuration();
    options.max_jobs = 0;
    options.disk_budget_bytes = 0;
    options.keep_checkpoints = true;
    return options;
  }

  TempDir dir_;
  std::string csv_;
  sched::FakeClock clock_;
  sched::EventHub hub_;
  std::unique_ptr<store::JobStore> store_;
  std::unique_ptr<store::JobFolders> folders_;
  std::unique_ptr<sched::JobManager> manager_;
};

TEST_F(HousekeepingTest, DeleteRemovesRecordEventsAndFolderOfEndedJobsOnly) {
  const Job ended = EndedJob(100);
  auto queued = manager_->Submit(ft::testing::ValidSpec(csv_), "");
  FT_ASSERT_OK(queued);
  FT_EXPECT_CODE(manager_->Delete(queued->job.id(), "test"), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Exists(queued->job));

  // The folder holds the model and the events.jsonl written when the job ended.
  const uint64_t size = DiskUsage(dir_.Path("home/jobs/" + ended.id()));
  EXPECT_GT(size, 100u);
  absl::StatusOr<uint64_t> freed = manager_->Delete(ended.id(), "test");
  FT_ASSERT_OK(freed);
  EXPECT_EQ(*freed, size);
  EXPECT_FALSE(Exists(ended));
  EXPECT_FALSE(FolderExists(ended));
  auto events = store_->ReadEvents(ended.id(), 0, 100);
  FT_ASSERT_OK(events);
  EXPECT_TRUE(events->empty());
  FT_EXPECT_CODE(manager_->Delete(ended.id(), "again"), absl::StatusCode::kNotFound);
}

TEST_F(HousekeepingTest, RetentionByCountAgeAndDiskBudget) {
  std::vector<Job> jobs;
  for (int i = 0; i < 5; ++i) jobs.push_back(EndedJob(100));

  RetentionOptions by_count = Off();
  by_count.max_jobs = 4;
  auto result = Run(by_count);
  FT_ASSERT_OK(result);
  EXPECT_EQ(result->jobs_deleted, 1);
  EXPECT_FALSE(Exists(jobs[0]));  // the oldest ended
  EXPECT_FALSE(FolderExists(jobs[0]));
  EXPECT_TRUE(Exists(jobs[1]));

  // The rest ended 4, 3, 2 and 1 hours ago (the clock moved an hour after each): past 2.5 h go.
  RetentionOptions by_age = Off();
  by_age.max_age = absl::Minutes(150);
  result = Run(by_age);
  FT_ASSERT_OK(result);
  EXPECT_EQ(result->jobs_deleted, 2);
  EXPECT_FALSE(Exists(jobs[1]));
  EXPECT_FALSE(Exists(jobs[2]));
  EXPECT_TRUE(Exists(jobs[3]));

  // Two folders of the same size left; a budget of 1.5 folders deletes the older one.
  const uint64_t each = DiskUsage(dir_.Path("home/jobs/" + jobs[3].id()));
  RetentionOptions by_disk = Off();
  by_disk.disk_budget_bytes = each + each / 2;
  result = Run(by_disk);
  FT_ASSERT_OK(result);
  EXPECT_EQ(result->jobs_deleted, 1);
  EXPECT_EQ(result->bytes_freed, each);
  EXPECT_FALSE(Exists(jobs[3]));
  EXPECT_TRUE(Exists(jobs[4]));

  // Everything within bounds: nothing happens.
  result = Run(by_disk);
  FT_ASSERT_OK(result);
  EXPECT_EQ(result->jobs_deleted, 0);
  EXPECT_TRUE(Exists(jobs[4]));
}

TEST_F(HousekeepingTest, CheckpointsOfSucceededJobsGoUnlessKept) {
  const Job succeeded = SucceededJob();
  const Job cancelled = EndedJob(10);
  dir_.Write("home/jobs/" + cancelled.id() + "/checkpoints/step-2/state.bin", "c");
  const std::string checkpoints = dir_.Path("home/jobs/" + succeeded.id() + "/checkpoints");
  const uint64_t before = DiskUsage(dir_.Path("home/jobs/" + succeeded.id()));

  auto kept = Run(Off());
  FT_ASSERT_OK(kept);
  EXPECT_EQ(kept->checkpoints_removed, 0);
  EXPECT_TRUE(fs::exists(checkpoints));

  RetentionOptions remove = Off();
  remove.keep_checkpoints = false;
  auto result = Run(remove);
  FT_ASSERT_OK(result);
  EXPECT_EQ(result->checkpoints_removed, 1);
  EXPECT_EQ(result->bytes_freed, 70u);
  EXPECT_FALSE(fs::exists(checkpoints));
  EXPECT_TRUE(fs::exists(dir_.Path("home/jobs/" + succeeded.id() + "/model.safetensors")));
  // A cancelled job keeps its checkpoints (a resubmission could resume... or be inspected).
  EXPECT_TRUE(fs::exists(dir_.Path("home/jobs/" + cancelled.id() + "/checkpoints")));
  EXPECT_EQ(DiskUsage(dir_.Path("home/jobs/" + succeeded.id())), before - 70);
}

TEST_F(HousekeepingTest, RequestIdsAreScopedByOwnerAndListsFilterByOwner) {
  auto alice = manager_->Submit(ft::testing::ValidSpec(csv_), "r1", "alice");
  auto bob = manager_->Submit(ft::testing::ValidSpec(csv_), "r1", "bob");
  auto alice_again = manager_->Submit(ft::testing::ValidSpec(csv_), "r1", "alice");
  FT_ASSERT_OK(alice);
  FT_ASSERT_OK(bob);
  FT_ASSERT_OK(alice_again);
  EXPECT_TRUE(bob->created);
  EXPECT_NE(alice->job.id(), bob->job.id());
  EXPECT_FALSE(alice_again->created);
  EXPECT_EQ(alice_again->job.id(), alice->job.id());
  EXPECT_EQ(alice->job.owner(), "alice");
  EXPECT_EQ(alice->job.request_id(), "r1");

  auto page = manager_->List({}, 0, "", std::string("bob"));
  FT_ASSERT_OK(page);
  ASSERT_EQ(page->jobs.size(), 1u);
  EXPECT_EQ(page->jobs[0].id(), bob->job.id());
  auto all = manager_->List({}, 0, "");
  FT_ASSERT_OK(all);
  EXPECT_EQ(all->jobs.size(), 2u);
  auto count = store_->CountJobs(ft::v1::QUEUED, "alice");
  FT_ASSERT_OK(count);
  EXPECT_EQ(*count, 1);
}

TEST_F(HousekeepingTest, PerUserQueueLimit) {
  sched::JobManagerOptions options;
  options.limits.max_queued_jobs_per_user = 2;
  auto manager = sched::JobManager::Create(options, store_.get(), folders_.get(), &hub_, &clock_,
                                           nullptr, nullptr);
  FT_ASSERT_OK(manager);
  FT_EXPECT_OK((*manager)->Submit(ft::testing::ValidSpec(csv_), "", "alice"));
  FT_EXPECT_OK((*manager)->Submit(ft::testing::ValidSpec(csv_), "", "alice"));
  auto third = (*manager)->Submit(ft::testing::ValidSpec(csv_), "", "alice");
  FT_EXPECT_CODE(third, absl::StatusCode::kResourceExhausted);
  EXPECT_NE(third.status().message().find("--max-queued-jobs-per-user"), std::string::npos)
      << third.status();
  FT_EXPECT_OK((*manager)->Submit(ft::testing::ValidSpec(csv_), "", "bob"));
}

TEST(StoreMigrationTest, AVersion1DatabaseGetsOwnersAndKeepsItsJobs) {
  TempDir dir;
  const std::string path = dir.Path("old.db");
  {
    // The schema of version 1, as shipped, with one job in it.
    auto db = store::SqliteDb::Open(path, {R"sql(
        CREATE TABLE jobs (
          seq INTEGER PRIMARY KEY AUTOINCREMENT,
          id TEXT NOT NULL UNIQUE,
          request_id TEXT UNIQUE,
          state INTEGER NOT NULL,
          job BLOB NOT NULL
        );
        CREATE INDEX jobs_by_state ON jobs(state, seq);
        CREATE TABLE events (
          job_id TEXT NOT NULL,
          seq INTEGER NOT NULL,
          event BLOB NOT NULL,
          PRIMARY KEY (job_id, seq)
        ) WITHOUT ROWID;
      )sql"});
    FT_ASSERT_OK(db);
    Job job;
    job.set_id("job-1");
    job.set_state(ft::v1::QUEUED);
    job.set_request_id("old");
    auto insert = (*db)->Prepare("INSERT INTO jobs (id, request_id, state, job) VALUES (?,?,?,?)");
    FT_ASSERT_OK(insert);
    insert->Bind(1, std::string("job-1")).Bind(2, std::string("old")).Bind(3, int64_t{1});
    insert->BindBlob(4, job.SerializeAsString());
    FT_ASSERT_OK(insert->Run());
  }
  auto store = store::JobStore::Open(path);
  FT_ASSERT_OK(store);
  auto page = (*store)->ListJobs({}, 10, "", std::string(""));
  FT_ASSERT_OK(page);
  ASSERT_EQ(page->jobs.size(), 1u);
  EXPECT_EQ(page->jobs[0].owner(), "");
  auto count = (*store)->CountJobs(ft::v1::QUEUED, "");
  FT_ASSERT_OK(count);
  EXPECT_EQ(*count, 1);
}

// The token cache's budget: least recently used entries go first until the rest fit; stale
// temporaries of crashed writers go; a writer's fresh temporary and files that are not the cache's
// stay; no budget removes no entry.
TEST(TokenCacheTrimTest, LeastRecentlyUsedEntriesGoFirstUntilTheRestFit) {
  TempDir dir;
  const auto now = fs::file_time_type::clock::now();
  auto write = [&](const std::string& name, std::size_t bytes, std::chrono::hours age) {
    const fs::path path = dir.Write("cache/" + name, std::string(bytes, 't'));
    fs::last_write_time(path, now - age);
  };
  // Used 4, 1, 3 and 2 hours ago.
  write("00000000000000a4.tokens", 100, std::chrono::hours(4));
  write("00000000000000a1.tokens", 100, std::chrono::hours(1));
  write("00000000000000a3.tokens", 100, std::chrono::hours(3));
  write("00000000000000a2.tokens", 100, std::chrono::hours(2));
  write("00000000000000b1.tokens.tmp.123.0", 40, std::chrono::hours(2));  // a crashed writer's
  write("00000000000000b2.tokens.tmp.124.0", 40, std::chrono::hours(0));  // being written
  write("notes.txt", 500, std::chrono::hours(9));
  const std::string cache = dir.Path("cache");

  TokenCacheTrim unbounded = TrimTokenCache(cache, 0);
  EXPECT_EQ(unbounded.entries_removed, 0);
  EXPECT_EQ(unbounded.temporaries_removed, 1);
  EXPECT_EQ(unbounded.bytes_kept, 400u);
  EXPECT_FALSE(fs::exists(cache + "/00000000000000b1.tokens.tmp.123.0"));

  const TokenCacheTrim trim = TrimTokenCache(cache, 250);
  EXPECT_EQ(trim.entries_removed, 2);
  EXPECT_EQ(trim.bytes_freed, 200u);
  EXPECT_EQ(trim.bytes_kept, 200u);
  EXPECT_FALSE(fs::exists(cache + "/00000000000000a4.tokens"));
  EXPECT_FALSE(fs::exists(cache + "/00000000000000a3.tokens"));
  EXPECT_TRUE(fs::exists(cache + "/00000000000000a2.tokens"));
  EXPECT_TRUE(fs::exists(cache + "/00000000000000a1.tokens"));
  EXPECT_TRUE(fs::exists(cache + "/00000000000000b2.tokens.tmp.124.0"));
  EXPECT_TRUE(fs::exists(cache + "/notes.txt"));

  EXPECT_EQ(TrimTokenCache(cache, 200).entries_removed, 0);  // fits exactly
  EXPECT_EQ(TrimTokenCache(dir.Path("no-such-folder"), 1).bytes_kept, 0u);
}

}  // namespace
}  // namespace ft::housekeeping
