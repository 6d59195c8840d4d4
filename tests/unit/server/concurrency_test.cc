// The daemon's threaded logic driven from many threads at once, so that the TSan stage
// (scripts/sanitize.sh tsan) sees every lock in use: publishers and subscribers of the event hub,
// submitters, workers, a ticker and a canceller on one JobManager (its store and leases), token
// reloads during authentication, watcher slots, and the client's cancel token. Each test also
// checks what must hold once the threads are done. No timing: threads run to fixed counts.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "client/lib/rpc/cancel_token.h"
#include "server/api/watcher_limits.h"
#include "server/auth/authenticator.h"
#include "server/sched/clock.h"
#include "server/sched/event_hub.h"
#include "server/sched/job_manager.h"
#include "server/store/job_store.h"
#include "tests/unit/server/server_test_util.h"

namespace ft {
namespace {

using ft::testing::TempDir;
using ft::v1::JobEvent;

JobEvent Event(uint64_t seq) {
  JobEvent event;
  event.set_seq(seq);
  event.mutable_log()->set_message("event " + std::to_string(seq));
  return event;
}

// Reads what it has not seen from the hub's cache when woken, as a watcher does.
class PullingListener : public sched::EventListener {
 public:
  PullingListener(sched::EventHub* hub, std::string job_id) : hub_(hub), job_id_(job_id) {}
  void OnNewEvents() override {
    absl::MutexLock lock(&mu_);
    auto events = hub_->CachedAfter(job_id_, last_seq_, 1000);
    if (!events.has_value()) return;
    for (const JobEvent& event : *events) {
      EXPECT_EQ(event.seq(), last_seq_ + 1) << job_id_;
      last_seq_ = event.seq();
    }
  }
  uint64_t last_seq() {
    absl::MutexLock lock(&mu_);
    return last_seq_;
  }

 private:
  sched::EventHub* const hub_;
  const std::string job_id_;
  absl::Mutex mu_;
  uint64_t last_seq_ ABSL_GUARDED_BY(mu_) = 0;
};

TEST(ConcurrencyTest, EventHubPublishersAndSubscribers) {
  constexpr int kJobs = 4;
  constexpr uint64_t kEvents = 300;
  sched::EventHub hub(/*cache_per_job=*/64);
  std::vector<std::shared_ptr<PullingListener>> steady;
  for (int j = 0; j < kJobs; ++j) {
    auto listener = std::make_shared<PullingListener>(&hub, "job" + std::to_string(j));
    hub.Subscribe("job" + std::to_string(j), listener);
    steady.push_back(listener);
  }
  std::vector<std::thread> threads;
  // One publisher per job, in seq order, in batches of 1 to 3 events.
  for (int j = 0; j < kJobs; ++j) {
    threads.emplace_back([&hub, j] {
      const std::string job = "job" + std::to_string(j);
      for (uint64_t seq = 1; seq <= kEvents;) {
        std::vector<JobEvent> batch;
        for (uint64_t k = 0; k < 1 + seq % 3 && seq <= kEvents; ++k) batch.push_back(Event(seq++));
        hub.Publish(job, batch);
      }
    });
  }
  // Watchers that come and go, and readers of the cache.
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&hub, t] {
      for (int i = 0; i < 200; ++i) {
        const std::string job = "job" + std::to_string((t + i) % kJobs);
        auto listener = std::make_shared<PullingListener>(&hub, job);
        hub.Subscribe(job, listener);
        hub.CachedAfter(job, i % 50, 10);
        hub.listener_count(job);
        hub.Unsubscribe(job, listener.get());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int j = 0; j < kJobs; ++j) {
    const std::string job = "job" + std::to_string(j);
    EXPECT_EQ(steady[j]->last_seq(), kEvents) << job;
    EXPECT_EQ(hub.listener_count(job), 1u) << job;
    auto tail = hub.CachedAfter(job, kEvents - 1, 10);
    ASSERT_TRUE(tail.has_value()) << job;
    ASSERT_EQ(tail->size(), 1u);
    EXPECT_EQ(tail->front().seq(), kEvents);
    hub.Forget(job);
  }
}

// Submitters, workers (acquire, heartbeat, report, complete), a canceller and a ticker on one
// JobManager with a real store. Every job must end exactly once, with contiguous events.
TEST(ConcurrencyTest, JobManagerSubmitAcquireReportCancelTick) {
  constexpr int kSubmitters = 3;
  constexpr int kJobsEach = 8;
  constexpr int kWorkers = 3;
  constexpr int kJobs = kSubmitters * kJobsEach;
  TempDir dir;
  const std::string csv = dir.Write("train.csv", ft::testing::SmallCsv());
  auto store = store::JobStore::Open(dir.Path("ftd.db"));
  ASSERT_TRUE(store.ok()) << store.status();
  sched::EventHub hub;
  sched::FakeClock clock;
  sched::JobManagerOptions options;
  options.base_dir = dir.path().string();
  auto folders = ft::testing::JobFoldersIn(dir.Path("home"));
  auto created = sched::JobManager::Create(options, store->get(), folders.get(), &hub, &clock,
                                           nullptr, nullptr);
  ASSERT_TRUE(created.ok()) << created.status();
  sched::JobManager& manager = **created;

  std::atomic<int> submitted{0};
  std::atomic<int> ended{0};
  std::atomic<bool> submitting_done{false};
  absl::Mutex ids_mu;
  std::vector<std::string> ids;
  std::map<std::string, int> completions;  // by job id, under ids_mu

  std::vector<std::thread> threads;
  for (int s = 0; s < kSubmitters; ++s) {
    threads.emplace_back([&, s] {
      for (int i = 0; i < kJobsEach; ++i) {
        auto result = manager.Submit(ft::testing::ValidSpec(csv),
                                     "req-" + std::to_string(s) + "-" + std::to_string(i),
                                     "user" + std::to_string(s));
        ASSERT_TRUE(result.ok()) << result.status();
        absl::MutexLock lock(&ids_mu);
        ids.push_back(result->job.id());
        ++submitted;
      }
    });
  }
  for (int w = 0; w < kWorkers; ++w) {
    threads.emplace_back([&, w] {
      const std::string worker = "w" + std::to_string(w);
      while (ended.load() < kJobs) {
        auto lease = manager.Acquire(worker);
        ASSERT_TRUE(lease.ok()) << lease.status();
        if (!lease->has_value()) {
          if (submitting_done.load() && ended.load() >= kJobs) break;
          std::this_thread::yield();
          continue;
        }
        const sched::Lease& l = **lease;
        bool stop = false;
        for (uint64_t step = 1; step <= 3 && !stop; ++step) {
          auto heartbeat = manager.Heartbeat(l.lease_id, l.job.id());
          ASSERT_TRUE(heartbeat.ok()) << heartbeat.status();
          auto report = manager.Report(l.lease_id, l.job.id(),
                                       {ft::testing::ProgressEvent(step, 1.0 / step, step * 4)},
                                       {0.01});
          ASSERT_TRUE(report.ok()) << report.status();
          stop = *heartbeat || *report;
        }
        const absl::Status done = manager.Complete(
            l.lease_id, l.job.id(), stop ? ft::v1::CANCELLED : ft::v1::SUCCEEDED, "");
        ASSERT_TRUE(done.ok()) << done;
        {
          absl::MutexLock lock(&ids_mu);
          ++completions[l.job.id()];
        }
        ++ended;
      }
    });
  }
  // Cancels every third job, whatever state it is in by then (queued jobs end at once).
  threads.emplace_back([&] {
    for (int i = 0; i < kJobs; i += 3) {
      std::string id;
      while (id.empty()) {
        absl::MutexLock lock(&ids_mu);
        if (static_cast<int>(ids.size()) > i) id = ids[i];
      }
      auto cancelled = manager.Cancel(id, "test cancel");
      if (cancelled.ok() && cancelled->state() == ft::v1::CANCELLED) {
        absl::MutexLock lock(&ids_mu);
        ++completions[id];
        ++ended;
      }
    }
  });
  // The periodic tick and the readers the API serves meanwhile.
  threads.emplace_back([&] {
    while (ended.load() < kJobs) {
      manager.Tick();
      manager.active_leases();
      manager.LeaseHeartbeatAges();
      auto page = manager.List({}, 100, "");
      ASSERT_TRUE(page.ok()) << page.status();
      std::this_thread::yield();
    }
  });
  for (int s = 0; s < kSubmitters; ++s) threads[s].join();
  submitting_done = true;
  for (size_t t = kSubmitters; t < threads.size(); ++t) threads[t].join();

  EXPECT_EQ(submitted.load(), kJobs);
  EXPECT_EQ(manager.active_leases(), 0);
  ASSERT_EQ(completions.size(), static_cast<size_t>(kJobs));
  for (const std::string& id : ids) {
    EXPECT_EQ(completions[id], 1) << id << " ended more or less than once";
    auto job = manager.Get(id);
    ASSERT_TRUE(job.ok()) << job.status();
    EXPECT_TRUE(sched::IsFinal(job->state())) << id << " " << job->state();
    auto events = (*store)->ReadEvents(id, 0, 10000);
    ASSERT_TRUE(events.ok()) << events.status();
    for (size_t i = 0; i < events->size(); ++i) EXPECT_EQ((*events)[i].seq(), i + 1) << id;
  }
}

TEST(ConcurrencyTest, TokenReloadDuringAuthentication) {
  TempDir dir;
  const std::string path = dir.Write("tokens", "alice-token-0123456789 alice user\n");
  auth::AuthenticatorOptions options;
  options.token_file = path;
  auto created = auth::Authenticator::Create(options);
  ASSERT_TRUE(created.ok()) << created.status();
  auth::Authenticator& authenticator = **created;
  std::atomic<bool> done{false};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!done.load()) {
        // alice is in every version of the file; bob only in some.
        auto alice = authenticator.Authenticate("Bearer alice-token-0123456789", auth::Api::kPublic);
        ASSERT_TRUE(alice.ok()) << alice.status();
        EXPECT_EQ(alice->user, "alice");
        const auto bob =
            authenticator.Authenticate("Bearer bob-token-0123456789", auth::Api::kPublic);
        if (bob.ok()) {
          EXPECT_EQ(bob->user, "bob");
        }
        authenticator.token_count();
      }
    });
  }
  for (int i = 0; i < 100; ++i) {
    {
      std::ofstream out(path + ".new");
      out << "alice-token-0123456789 alice user\n";
      if (i % 2 == 0) out << "bob-token-0123456789 bob admin\n";
    }
    std::filesystem::rename(path + ".new", path);
    const absl::Status reloaded = authenticator.Reload(/*force=*/i % 3 == 0);
    EXPECT_TRUE(reloaded.ok()) << reloaded;
  }
  done = true;
  for (std::thread& reader : readers) reader.join();
  EXPECT_EQ(authenticator.token_count(), 1u);  // the last file (i = 99) has alice only
}

// No atomics in the loop: they would order the threads for TSan and hide a missing lock.
TEST(ConcurrencyTest, WatcherSlotsNeverExceedTheBounds) {
  api::WatcherLimits limits(/*max_total=*/6, /*max_per_job=*/3);
  constexpr int kThreads = 8;
  std::vector<int> refused(kThreads, 0);
  std::vector<int> max_seen(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 300; ++i) {
        auto slot = limits.Acquire("job" + std::to_string((t + i) % 3));
        if (!slot.ok()) {
          EXPECT_EQ(slot.status().code(), absl::StatusCode::kResourceExhausted);
          ++refused[t];
          continue;
        }
        max_seen[t] = std::max(max_seen[t], limits.total());
      }
    });
  }
  // A monitor that only reads, as /metrics does: nothing but the limits' lock orders it.
  int monitor_max = 0;
  threads.emplace_back([&] {
    for (int i = 0; i < 3000; ++i) monitor_max = std::max(monitor_max, limits.total());
  });
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_GE(max_seen[t], 1) << t;
    EXPECT_LE(max_seen[t], 6) << t;
  }
  EXPECT_LE(monitor_max, 6);
  EXPECT_EQ(limits.total(), 0);
}

TEST(ConcurrencyTest, CancelTokenFromAnotherThreadWakesTheSleeper) {
  for (int round = 0; round < 50; ++round) {
    client::CancelToken token;
    token.Arm(true);
    std::thread sleeper([&] { EXPECT_FALSE(token.SleepFor(absl::Seconds(60))); });
    std::thread canceller([&] { EXPECT_TRUE(token.Cancel()); });
    canceller.join();
    sleeper.join();
    EXPECT_TRUE(token.cancelled());
    EXPECT_FALSE(token.Cancel());  // once only
  }
}

}  // namespace
}  // namespace ft
