// JobStore and SqliteDb on real SQLite files, one fresh temp dir per test.
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server/store/job_store.h"
#include "server/store/sqlite_db.h"
#include "tests/unit/server/server_test_util.h"

namespace ft::store {
namespace {

using ft::testing::TempDir;
using ft::v1::Job;
using ft::v1::JobEvent;
using ft::v1::JobState;
using google::protobuf::util::MessageDifferencer;

// A mutation that sets the state and appends one log event.
JobMutation SetState(JobState state, const std::string& message = "changed") {
  return [state, message](Job& job, std::vector<JobEvent>& events) -> absl::Status {
    job.set_state(state);
    events.push_back(ft::testing::LogEvent(message));
    return absl::OkStatus();
  };
}

JobMutation AppendLogs(int count, const std::string& prefix) {
  return [count, prefix](Job&, std::vector<JobEvent>& events) -> absl::Status {
    for (int i = 0; i < count; ++i)
      events.push_back(ft::testing::LogEvent(absl::StrCat(prefix, i)));
    return absl::OkStatus();
  };
}

int64_t UserVersion(const std::string& path) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, nullptr), SQLITE_OK);
  int64_t version = -1;
  if (sqlite3_step(stmt) == SQLITE_ROW) version = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return version;
}

void ExecRaw(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  EXPECT_EQ(rc, SQLITE_OK) << (error ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
}

class JobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.Path("ftd.db");
    auto store = JobStore::Open(path_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  // Creates a QUEUED job with one event and returns it.
  Job Create(const std::string& request_id = "", const std::string& name = "") {
    auto result = store_->CreateJob(request_id, [&](Job& job, std::vector<JobEvent>& events) {
      job.set_state(ft::v1::QUEUED);
      job.set_attempt(1);
      job.mutable_spec()->set_display_name(name);
      events.push_back(ft::testing::StateChangeEvent(ft::v1::JOB_STATE_UNSPECIFIED, ft::v1::QUEUED,
                                                     "submitted"));
      return absl::OkStatus();
    });
    EXPECT_TRUE(result.ok()) << result.status();
    if (!result.ok()) return Job();
    EXPECT_TRUE(result->created);
    return result->job;
  }

  std::vector<std::string> Ids(const std::vector<Job>& jobs) {
    std::vector<std::string> ids;
    for (const Job& job : jobs) ids.push_back(job.id());
    return ids;
  }

  // Follows next_page_token until it is empty; returns every job in order and the page sizes.
  std::vector<Job> ListAll(const std::vector<JobState>& states, int page_size,
                           std::vector<size_t>* page_sizes) {
    std::vector<Job> all;
    std::string token;
    for (int page = 0; page < 100; ++page) {
      auto result = store_->ListJobs(states, page_size, token);
      EXPECT_TRUE(result.ok()) << result.status();
      if (!result.ok()) break;
      if (page_sizes) page_sizes->push_back(result->jobs.size());
      all.insert(all.end(), result->jobs.begin(), result->jobs.end());
      if (result->next_page_token.empty()) return all;
      token = result->next_page_token;
    }
    ADD_FAILURE() << "paging did not end";
    return all;
  }

  TempDir dir_;
  std::string path_;
  std::unique_ptr<JobStore> store_;
};

TEST_F(JobStoreTest, CreateAssignsIdsAndStoresTheFirstEvents) {
  auto result = store_->CreateJob("", [](Job& job, std::vector<JobEvent>& events) {
    job.set_id("ignored-by-the-store");
    job.set_state(ft::v1::QUEUED);
    job.set_attempt(1);
    events.push_back(ft::testing::LogEvent("first"));
    events.push_back(ft::testing::LogEvent("second"));
    return absl::OkStatus();
  });
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->created);
  EXPECT_EQ(result->job.id(), "job-1");
  EXPECT_EQ(result->job.last_event_seq(), 2u);
  ASSERT_EQ(result->events.size(), 2u);
  EXPECT_EQ(result->events[0].seq(), 1u);
  EXPECT_EQ(result->events[0].job_id(), "job-1");
  EXPECT_EQ(result->events[1].seq(), 2u);

  auto loaded = store_->GetJob("job-1");
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_TRUE(MessageDifferencer::Equals(*loaded, result->job)) << loaded->DebugString();

  Job second = Create();
  EXPECT_EQ(second.id(), "job-2");
}

TEST_F(JobStoreTest, UnknownJobIsNotFound) {
  FT_EXPECT_CODE(store_->GetJob("job-42"), absl::StatusCode::kNotFound);
  FT_EXPECT_CODE(store_->UpdateJob("job-42", SetState(ft::v1::RUNNING)),
                 absl::StatusCode::kNotFound);
  auto events = store_->ReadEvents("job-42", 0, 100);
  ASSERT_TRUE(events.ok());
  EXPECT_TRUE(events->empty());
}

TEST_F(JobStoreTest, ListIsNewestFirst) {
  for (int i = 0; i < 5; ++i) Create();
  auto page = store_->ListJobs({}, 100, "");
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(Ids(page->jobs),
            (std::vector<std::string>{"job-5", "job-4", "job-3", "job-2", "job-1"}));
  EXPECT_TRUE(page->next_page_token.empty());
}

TEST_F(JobStoreTest, ListOnEmptyStore) {
  auto page = store_->ListJobs({}, 10, "");
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_TRUE(page->jobs.empty());
  EXPECT_TRUE(page->next_page_token.empty());
}

TEST_F(JobStoreTest, PagingWalksEveryJobOnce) {
  for (int i = 0; i < 7; ++i) Create();
  std::vector<size_t> sizes;
  const std::vector<Job> all = ListAll({}, 3, &sizes);
  EXPECT_EQ(sizes, (std::vector<size_t>{3, 3, 1}));
  EXPECT_EQ(Ids(all), (std::vector<std::string>{"job-7", "job-6", "job-5", "job-4", "job-3",
                                                "job-2", "job-1"}));
}

TEST_F(JobStoreTest, PagingWithExactMultipleHasNoEmptyTrailingPage) {
  for (int i = 0; i < 6; ++i) Create();
  std::vector<size_t> sizes;
  const std::vector<Job> all = ListAll({}, 3, &sizes);
  EXPECT_EQ(sizes, (std::vector<size_t>{3, 3}));
  EXPECT_EQ(all.size(), 6u);
}

TEST_F(JobStoreTest, PageSizeOneWalksEveryJob) {
  for (int i = 0; i < 4; ++i) Create();
  std::vector<size_t> sizes;
  const std::vector<Job> all = ListAll({}, 1, &sizes);
  EXPECT_EQ(Ids(all), (std::vector<std::string>{"job-4", "job-3", "job-2", "job-1"}));
}

TEST_F(JobStoreTest, FilterByStateWithPaging) {
  for (int i = 0; i < 9; ++i) Create();
  // Every third job runs, job-9 succeeded.
  for (const char* id : {"job-1", "job-4", "job-7"}) {
    ASSERT_TRUE(store_->UpdateJob(id, SetState(ft::v1::RUNNING)).ok());
  }
  ASSERT_TRUE(store_->UpdateJob("job-9", SetState(ft::v1::SUCCEEDED)).ok());

  std::vector<size_t> sizes;
  const std::vector<Job> queued = ListAll({ft::v1::QUEUED}, 2, &sizes);
  EXPECT_EQ(Ids(queued), (std::vector<std::string>{"job-8", "job-6", "job-5", "job-3", "job-2"}));
  for (const Job& job : queued) EXPECT_EQ(job.state(), ft::v1::QUEUED);
  EXPECT_EQ(sizes, (std::vector<size_t>{2, 2, 1}));

  const std::vector<Job> running_or_done =
      ListAll({ft::v1::RUNNING, ft::v1::SUCCEEDED}, 100, nullptr);
  EXPECT_EQ(Ids(running_or_done), (std::vector<std::string>{"job-9", "job-7", "job-4", "job-1"}));

  EXPECT_TRUE(ListAll({ft::v1::FAILED}, 5, nullptr).empty());
}

TEST_F(JobStoreTest, MalformedPageTokenIsInvalidArgument) {
  Create();
  for (const std::string token : {"abc", "-5", "0", "12x", "1.5", "99999999999999999999999"}) {
    FT_EXPECT_CODE(store_->ListJobs({}, 10, token), absl::StatusCode::kInvalidArgument)
        << "token '" << token << "'";
  }
}

TEST_F(JobStoreTest, EventsAreNumberedPerJobInOrder) {
  Job a = Create();
  Job b = Create();
  std::vector<JobEvent> stored;
  auto updated = store_->UpdateJob(a.id(), AppendLogs(3, "a"), &stored);
  ASSERT_TRUE(updated.ok()) << updated.status();
  ASSERT_EQ(stored.size(), 3u);
  for (size_t i = 0; i < stored.size(); ++i) {
    EXPECT_EQ(stored[i].seq(), i + 2);
    EXPECT_EQ(stored[i].job_id(), a.id());
  }
  EXPECT_EQ(updated->last_event_seq(), 4u);
  ASSERT_TRUE(store_->UpdateJob(b.id(), AppendLogs(1, "b")).ok());
  ASSERT_TRUE(store_->UpdateJob(a.id(), AppendLogs(2, "c")).ok());

  auto events = store_->ReadEvents(a.id(), 0, 100);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 6u);
  for (size_t i = 0; i < events->size(); ++i) {
    EXPECT_EQ((*events)[i].seq(), i + 1);
    EXPECT_EQ((*events)[i].job_id(), a.id());
  }
  EXPECT_TRUE((*events)[0].has_state_change());
  EXPECT_EQ((*events)[1].log().message(), "a0");
  EXPECT_EQ((*events)[3].log().message(), "a2");
  EXPECT_EQ((*events)[5].log().message(), "c1");

  auto b_events = store_->ReadEvents(b.id(), 0, 100);
  ASSERT_TRUE(b_events.ok());
  ASSERT_EQ(b_events->size(), 2u);
  EXPECT_EQ((*b_events)[1].seq(), 2u);
  EXPECT_EQ((*b_events)[1].log().message(), "b0");

  auto job = store_->GetJob(a.id());
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->last_event_seq(), 6u);
}

TEST_F(JobStoreTest, ReadEventsAfterSeqWithLimit) {
  Job job = Create();
  ASSERT_TRUE(store_->UpdateJob(job.id(), AppendLogs(9, "e")).ok());  // seqs 2..10

  auto middle = store_->ReadEvents(job.id(), 3, 2);
  ASSERT_TRUE(middle.ok()) << middle.status();
  ASSERT_EQ(middle->size(), 2u);
  EXPECT_EQ((*middle)[0].seq(), 4u);
  EXPECT_EQ((*middle)[1].seq(), 5u);

  auto tail = store_->ReadEvents(job.id(), 8, 100);
  ASSERT_TRUE(tail.ok());
  ASSERT_EQ(tail->size(), 2u);
  EXPECT_EQ((*tail)[0].seq(), 9u);
  EXPECT_EQ((*tail)[1].seq(), 10u);

  auto none = store_->ReadEvents(job.id(), 10, 100);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());

  auto zero = store_->ReadEvents(job.id(), 0, 0);
  ASSERT_TRUE(zero.ok());
  EXPECT_TRUE(zero->empty());
}

TEST_F(JobStoreTest, CreateWithSameRequestIdIsIdempotent) {
  Job first = Create("req-1", "first");
  int init_calls = 0;
  auto again = store_->CreateJob("req-1", [&](Job& job, std::vector<JobEvent>& events) {
    ++init_calls;
    job.set_state(ft::v1::QUEUED);
    job.mutable_spec()->set_display_name("second");
    events.push_back(ft::testing::LogEvent("must not be stored"));
    return absl::OkStatus();
  });
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->created);
  EXPECT_EQ(init_calls, 0);
  EXPECT_TRUE(again->events.empty());
  EXPECT_TRUE(MessageDifferencer::Equals(again->job, first)) << again->job.DebugString();
  EXPECT_EQ(again->job.spec().display_name(), "first");
  EXPECT_EQ(again->job.request_id(), "req-1");

  auto events = store_->ReadEvents(first.id(), 0, 100);
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->size(), 1u);
  auto page = store_->ListJobs({}, 100, "");
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->jobs.size(), 1u);

  // A different request id, or none, creates new jobs.
  Job other = Create("req-2");
  Job anonymous1 = Create();
  Job anonymous2 = Create();
  EXPECT_NE(other.id(), first.id());
  EXPECT_NE(anonymous1.id(), anonymous2.id());
}

TEST_F(JobStoreTest, IdempotentReturnsTheJobAsItIsNow) {
  Job first = Create("req-1");
  ASSERT_TRUE(store_->UpdateJob(first.id(), SetState(ft::v1::RUNNING)).ok());
  auto again =
      store_->CreateJob("req-1", [](Job&, std::vector<JobEvent>&) { return absl::OkStatus(); });
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->job.id(), first.id());
  EXPECT_EQ(again->job.state(), ft::v1::RUNNING);
}

TEST_F(JobStoreTest, FailedCreateStoresNothingAndFreesTheRequestId) {
  auto failed = store_->CreateJob("req-x", [](Job& job, std::vector<JobEvent>& events) {
    job.set_state(ft::v1::QUEUED);
    events.push_back(ft::testing::LogEvent("lost"));
    return absl::InvalidArgumentError("no");
  });
  FT_EXPECT_CODE(failed, absl::StatusCode::kInvalidArgument);
  auto page = store_->ListJobs({}, 100, "");
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->jobs.empty());

  Job created = Create("req-x");
  EXPECT_EQ(created.request_id(), "req-x");
  auto events = store_->ReadEvents(created.id(), 0, 100);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);
  EXPECT_TRUE((*events)[0].has_state_change());
}

TEST_F(JobStoreTest, FailedMutationRollsBack) {
  Job job = Create();
  ASSERT_TRUE(store_->UpdateJob(job.id(), AppendLogs(2, "ok")).ok());
  auto before = store_->GetJob(job.id());
  ASSERT_TRUE(before.ok());

  auto failed = store_->UpdateJob(job.id(), [](Job& j, std::vector<JobEvent>& events) {
    j.set_state(ft::v1::FAILED);
    j.set_error("half-done");
    j.set_attempt(7);
    events.push_back(ft::testing::LogEvent("must vanish"));
    return absl::FailedPreconditionError("changed my mind");
  });
  FT_EXPECT_CODE(failed, absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(failed.status().message(), "changed my mind");

  auto after = store_->GetJob(job.id());
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(MessageDifferencer::Equals(*before, *after)) << after->DebugString();
  auto events = store_->ReadEvents(job.id(), 0, 100);
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->size(), 3u);
  auto queued = store_->ListJobs({ft::v1::FAILED}, 10, "");
  ASSERT_TRUE(queued.ok());
  EXPECT_TRUE(queued->jobs.empty());

  // The store still works, and numbering continues without a gap.
  std::vector<JobEvent> stored;
  ASSERT_TRUE(store_->UpdateJob(job.id(), AppendLogs(1, "next"), &stored).ok());
  ASSERT_EQ(stored.size(), 1u);
  EXPECT_EQ(stored[0].seq(), 4u);
}

TEST_F(JobStoreTest, MutationCannotRenameAJob) {
  Job job = Create();
  auto updated = store_->UpdateJob(job.id(), [](Job& j, std::vector<JobEvent>&) {
    j.set_id("job-999");
    return absl::OkStatus();
  });
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(updated->id(), job.id());
  EXPECT_TRUE(store_->GetJob(job.id()).ok());
  FT_EXPECT_CODE(store_->GetJob("job-999"), absl::StatusCode::kNotFound);
}

TEST_F(JobStoreTest, JobsInStatesIsOldestFirstAndCountByState) {
  for (int i = 0; i < 5; ++i) Create();
  ASSERT_TRUE(store_->UpdateJob("job-2", SetState(ft::v1::RUNNING)).ok());
  ASSERT_TRUE(store_->UpdateJob("job-4", SetState(ft::v1::CANCELLING)).ok());

  auto queued = store_->JobsInStates({ft::v1::QUEUED}, 100);
  ASSERT_TRUE(queued.ok());
  EXPECT_EQ(Ids(*queued), (std::vector<std::string>{"job-1", "job-3", "job-5"}));
  auto first = store_->JobsInStates({ft::v1::QUEUED}, 1);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(Ids(*first), (std::vector<std::string>{"job-1"}));
  auto active = store_->JobsInStates({ft::v1::RUNNING, ft::v1::CANCELLING}, 100);
  ASSERT_TRUE(active.ok());
  EXPECT_EQ(Ids(*active), (std::vector<std::string>{"job-2", "job-4"}));

  auto counts = store_->CountByState();
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ((*counts)[ft::v1::QUEUED], 3);
  EXPECT_EQ((*counts)[ft::v1::RUNNING], 1);
  EXPECT_EQ((*counts)[ft::v1::CANCELLING], 1);
  EXPECT_EQ(counts->count(ft::v1::SUCCEEDED), 0u);
}

TEST_F(JobStoreTest, PersistsAcrossReopen) {
  Job a = Create("req-a", "alpha");
  Job b = Create();
  ASSERT_TRUE(
      store_
          ->UpdateJob(a.id(),
                      [](Job& j, std::vector<JobEvent>& events) {
                        j.set_state(ft::v1::RUNNING);
                        j.set_worker_id("w1");
                        *j.mutable_progress() = ft::testing::ProgressEvent(3, 0.5, 12).progress();
                        events.push_back(ft::testing::ProgressEvent(3, 0.5, 12));
                        events.push_back(ft::testing::EvaluationEvent("validation", 3, 0.4, 0.8));
                        return absl::OkStatus();
                      })
          .ok());
  std::map<std::string, Job> jobs_before;
  std::map<std::string, std::vector<JobEvent>> events_before;
  for (const std::string& id : {a.id(), b.id()}) {
    jobs_before[id] = *store_->GetJob(id);
    events_before[id] = *store_->ReadEvents(id, 0, 1000);
  }

  store_.reset();
  auto reopened = JobStore::Open(path_);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  store_ = std::move(*reopened);

  for (const auto& [id, job] : jobs_before) {
    auto loaded = store_->GetJob(id);
    ASSERT_TRUE(loaded.ok()) << loaded.status();
    EXPECT_TRUE(MessageDifferencer::Equals(*loaded, job)) << loaded->DebugString();
    auto events = store_->ReadEvents(id, 0, 1000);
    ASSERT_TRUE(events.ok());
    ASSERT_EQ(events->size(), events_before[id].size());
    for (size_t i = 0; i < events->size(); ++i) {
      EXPECT_TRUE(MessageDifferencer::Equals((*events)[i], events_before[id][i]));
    }
  }
  // Idempotency and numbering survive the reopen.
  auto again =
      store_->CreateJob("req-a", [](Job&, std::vector<JobEvent>&) { return absl::OkStatus(); });
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->created);
  EXPECT_EQ(again->job.id(), a.id());
  Job c = Create();
  EXPECT_EQ(c.id(), "job-3");
  std::vector<JobEvent> stored;
  ASSERT_TRUE(store_->UpdateJob(a.id(), AppendLogs(1, "after"), &stored).ok());
  EXPECT_EQ(stored.at(0).seq(), events_before[a.id()].size() + 1);
  EXPECT_EQ(UserVersion(path_), 3);  // v3: the webhook outbox
}

TEST_F(JobStoreTest, ConcurrentWritersThroughOneStoreAndASecondConnection) {
  constexpr int kThreads = 8;
  constexpr int kJobsPerThread = 25;
  constexpr int kUpdatesPerJob = 2;
  auto second = JobStore::Open(path_);
  ASSERT_TRUE(second.ok()) << second.status();

  std::atomic<int> errors{0};
  std::mutex ids_mu;
  std::vector<std::string> ids;
  auto writer = [&](JobStore* store, int thread) {
    for (int i = 0; i < kJobsPerThread; ++i) {
      auto created = store->CreateJob("", [&](Job& job, std::vector<JobEvent>& events) {
        job.set_state(ft::v1::QUEUED);
        job.mutable_spec()->set_display_name(absl::StrCat("t", thread, "-", i));
        events.push_back(ft::testing::LogEvent("created"));
        return absl::OkStatus();
      });
      if (!created.ok()) {
        ++errors;
        ADD_FAILURE() << created.status();
        continue;
      }
      for (int u = 0; u < kUpdatesPerJob; ++u) {
        auto updated = store->UpdateJob(created->job.id(), AppendLogs(1 + u, "u"));
        if (!updated.ok()) {
          ++errors;
          ADD_FAILURE() << updated.status();
        }
      }
      std::lock_guard<std::mutex> lock(ids_mu);
      ids.push_back(created->job.id());
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(writer, store_.get(), t);
  threads.emplace_back(writer, second->get(), kThreads);
  for (auto& thread : threads) thread.join();

  EXPECT_EQ(errors.load(), 0);
  const size_t expected_jobs = (kThreads + 1) * kJobsPerThread;
  ASSERT_EQ(ids.size(), expected_jobs);
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()).size(), expected_jobs);

  // Both connections see every job, each with a contiguous event log 1..N.
  constexpr uint64_t kEventsPerJob = 1 + 1 + 2;
  for (JobStore* store : {store_.get(), second->get()}) {
    auto page = store->ListJobs({}, 1000, "");
    ASSERT_TRUE(page.ok());
    EXPECT_EQ(page->jobs.size(), expected_jobs);
  }
  std::set<std::string> names;
  for (const std::string& id : ids) {
    auto job = store_->GetJob(id);
    ASSERT_TRUE(job.ok()) << job.status();
    names.insert(job->spec().display_name());
    EXPECT_EQ(job->last_event_seq(), kEventsPerJob) << id;
    auto events = store_->ReadEvents(id, 0, 1000);
    ASSERT_TRUE(events.ok());
    ASSERT_EQ(events->size(), kEventsPerJob) << id;
    for (size_t i = 0; i < events->size(); ++i) {
      EXPECT_EQ((*events)[i].seq(), i + 1) << id;
      EXPECT_EQ((*events)[i].job_id(), id);
    }
  }
  EXPECT_EQ(names.size(), expected_jobs);  // no job's blob was overwritten by another's
}

// --- Migrations ---

TEST(SqliteMigrationTest, EmptyFileMigratesToCurrent) {
  TempDir dir;
  const std::string path = dir.Write("ftd.db", "");
  auto store = JobStore::Open(path);
  ASSERT_TRUE(store.ok()) << store.status();
  auto created = (*store)->CreateJob("", [](Job& job, std::vector<JobEvent>& events) {
    job.set_state(ft::v1::QUEUED);
    events.push_back(ft::testing::LogEvent("x"));
    return absl::OkStatus();
  });
  ASSERT_TRUE(created.ok()) << created.status();
  store->reset();
  EXPECT_EQ(UserVersion(path), 3);
}

TEST(SqliteMigrationTest, NewerSchemaIsRefused) {
  TempDir dir;
  const std::string path = dir.Path("ftd.db");
  ExecRaw(path, "CREATE TABLE future (x INTEGER); PRAGMA user_version = 7;");
  auto store = JobStore::Open(path);
  FT_EXPECT_CODE(store, absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(store.status().message().find("7"), std::string::npos) << store.status();
  EXPECT_EQ(UserVersion(path), 7);  // left alone

  // One past the known migrations is refused too.
  const std::string path2 = dir.Path("ftd2.db");
  ExecRaw(path2, "PRAGMA user_version = 4;");
  FT_EXPECT_CODE(JobStore::Open(path2), absl::StatusCode::kFailedPrecondition);
}

TEST(SqliteMigrationTest, AppliesOnlyMissingMigrationsInOrder) {
  TempDir dir;
  const std::string path = dir.Path("m.db");
  {
    auto db = SqliteDb::Open(path, {"CREATE TABLE a (x INTEGER); INSERT INTO a VALUES (1);"});
    ASSERT_TRUE(db.ok()) << db.status();
    auto version = (*db)->SchemaVersion();
    ASSERT_TRUE(version.ok());
    EXPECT_EQ(*version, 1);
  }
  {
    // Re-running migration 0 would fail (table a exists), so only migration 1 may run.
    auto db =
        SqliteDb::Open(path, {"CREATE TABLE a (x INTEGER); INSERT INTO a VALUES (1);",
                              "CREATE TABLE b (y INTEGER); INSERT INTO b SELECT x + 1 FROM a;"});
    ASSERT_TRUE(db.ok()) << db.status();
    auto version = (*db)->SchemaVersion();
    ASSERT_TRUE(version.ok());
    EXPECT_EQ(*version, 2);
    auto stmt = (*db)->Prepare("SELECT y FROM b");
    ASSERT_TRUE(stmt.ok());
    auto row = stmt->Step();
    ASSERT_TRUE(row.ok() && *row);
    EXPECT_EQ(stmt->ColumnInt(0), 2);
  }
}

TEST(SqliteMigrationTest, FailingMigrationRollsBackEverything) {
  TempDir dir;
  const std::string path = dir.Path("m.db");
  auto db = SqliteDb::Open(path, {"CREATE TABLE a (x INTEGER);", "THIS IS NOT SQL;"});
  EXPECT_FALSE(db.ok());
  EXPECT_EQ(UserVersion(path), 0);
  // Migration 0 was rolled back with the failing one: it applies cleanly again.
  auto again = SqliteDb::Open(path, {"CREATE TABLE a (x INTEGER);"});
  ASSERT_TRUE(again.ok()) << again.status();
}

TEST(SqliteDbTest, TransactionRollsBackOnError) {
  TempDir dir;
  auto db = SqliteDb::Open(dir.Path("t.db"), {"CREATE TABLE t (x INTEGER);"});
  ASSERT_TRUE(db.ok()) << db.status();
  SqliteDb& d = **db;
  FT_EXPECT_OK(d.InTransaction([&] { return d.Exec("INSERT INTO t VALUES (1)"); }));
  FT_EXPECT_CODE(d.InTransaction([&]() -> absl::Status {
    absl::Status status = d.Exec("INSERT INTO t VALUES (2)");
    if (!status.ok()) return status;
    return absl::AbortedError("undo");
  }),
                 absl::StatusCode::kAborted);
  auto stmt = d.Prepare("SELECT COUNT(*), SUM(x) FROM t");
  ASSERT_TRUE(stmt.ok());
  auto row = stmt->Step();
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_EQ(stmt->ColumnInt(0), 1);
  EXPECT_EQ(stmt->ColumnInt(1), 1);
}

TEST(SqliteDbTest, ErrorsMapToStatusCodes) {
  TempDir dir;
  auto db = SqliteDb::Open(dir.Path("t.db"), {"CREATE TABLE t (x INTEGER PRIMARY KEY);"});
  ASSERT_TRUE(db.ok()) << db.status();
  FT_EXPECT_OK((*db)->Exec("INSERT INTO t VALUES (1)"));
  FT_EXPECT_CODE((*db)->Exec("INSERT INTO t VALUES (1)"), absl::StatusCode::kAlreadyExists);
  FT_EXPECT_CODE((*db)->Prepare("SELECT nope FROM t"), absl::StatusCode::kInternal);
}

// Prepared statements are cached per SQL text: a reused one starts from the beginning with no
// bindings left, and the same text while its statement is in use gets a statement of its own.
TEST(SqliteDbTest, CachedStatementsAreResetAndNeverShared) {
  TempDir dir;
  auto db = SqliteDb::Open(dir.Path("t.db"), {"CREATE TABLE t (x INTEGER);"});
  ASSERT_TRUE(db.ok()) << db.status();
  SqliteDb& d = **db;
  for (int i = 1; i <= 3; ++i) {
    auto insert = d.Prepare("INSERT INTO t VALUES (?)");
    ASSERT_TRUE(insert.ok());
    insert->Bind(1, i);
    FT_EXPECT_OK(insert->Run());
  }
  {
    auto unbound = d.Prepare("INSERT INTO t VALUES (?)");  // the cached one: bindings cleared
    ASSERT_TRUE(unbound.ok());
    FT_EXPECT_OK(unbound->Run());
  }
  const std::string select = "SELECT x FROM t ORDER BY x IS NULL, x";
  std::vector<std::string> seen;
  {
    auto outer = d.Prepare(select);
    ASSERT_TRUE(outer.ok());
    while (true) {
      auto row = outer->Step();
      ASSERT_TRUE(row.ok());
      if (!*row) break;
      seen.push_back(outer->ColumnIsNull(0) ? "null" : std::to_string(outer->ColumnInt(0)));
      auto inner = d.Prepare(select);  // in use by `outer`: a fresh statement, from the first row
      ASSERT_TRUE(inner.ok());
      auto first = inner->Step();
      ASSERT_TRUE(first.ok() && *first);
      EXPECT_EQ(inner->ColumnInt(0), 1);
    }
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"1", "2", "3", "null"}));
  // Stepped to the end above; the next use starts again at the first row.
  auto again = d.Prepare(select);
  ASSERT_TRUE(again.ok());
  auto row = again->Step();
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_EQ(again->ColumnInt(0), 1);
}

TEST(SqliteDbTest, OpenFailsForAnUnwritablePlace) {
  TempDir dir;
  auto db = SqliteDb::Open(dir.Path("no/such/folder/t.db"), {});
  EXPECT_FALSE(db.ok());
}

}  // namespace
}  // namespace ft::store
