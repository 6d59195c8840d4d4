// A JobManager on a real store in a temp dir, a real EventHub and a FakeClock, for tests that play
// the workers themselves (names that call Acquire, Heartbeat and Complete). A fixture derives from
// it with its observer type, sets options_ in SetUp, then calls Start; Recreate is a restarted
// ftd on the same store.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "server/sched/clock.h"
#include "server/sched/event_hub.h"
#include "server/sched/job_manager.h"
#include "server/store/job_store.h"
#include "tests/unit/server/server_test_util.h"

namespace ft::sched {

template <typename Observer>
class JobManagerFixture : public ::testing::Test {
 protected:
  // Opens the store, then creates the manager with options_ (base_dir set here) and `killer`.
  void Start(WorkerKiller* killer = nullptr) {
    worker_killer_ = killer;
    csv_ = dir_.Write("data/train.csv", ft::testing::SmallCsv());
    auto store = store::JobStore::Open(dir_.Path("ftd.db"));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    folders_ = ft::testing::JobFoldersIn(dir_.Path("home"));
    options_.base_dir = dir_.path().string();
    Recreate();
  }

  void Recreate() {
    auto manager = JobManager::Create(options_, store_.get(), folders_.get(), &hub_, &clock_,
                                      &observer_, worker_killer_);
    ASSERT_TRUE(manager.ok()) << manager.status();
    manager_ = std::move(*manager);
  }

  ft::v1::Job Get(const std::string& id) {
    auto job = manager_->Get(id);
    EXPECT_TRUE(job.ok()) << job.status();
    return job.ok() ? *job : ft::v1::Job();
  }

  std::vector<ft::v1::JobEvent> Events(const std::string& id) {
    auto events = store_->ReadEvents(id, 0, 10000);
    EXPECT_TRUE(events.ok()) << events.status();
    return events.ok() ? *events : std::vector<ft::v1::JobEvent>();
  }

  ft::testing::TempDir dir_;
  std::string csv_;
  std::unique_ptr<store::JobStore> store_;
  std::unique_ptr<store::JobFolders> folders_;
  EventHub hub_;
  FakeClock clock_;
  Observer observer_;
  WorkerKiller* worker_killer_ = nullptr;
  JobManagerOptions options_;
  std::unique_ptr<JobManager> manager_;
};

}  // namespace ft::sched
