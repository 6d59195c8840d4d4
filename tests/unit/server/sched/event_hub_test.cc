// EventHub: wake-ups and the per-job cache of recent events.
#include "server/sched/event_hub.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "tests/unit/server/server_test_util.h"

namespace ft::sched {
namespace {

using ft::v1::JobEvent;

class CountingListener : public EventListener {
 public:
  void OnNewEvents() override { ++wakeups; }
  std::atomic<int> wakeups{0};
};

std::vector<JobEvent> Seqs(const std::string& job_id, uint64_t from, uint64_t to) {
  std::vector<JobEvent> events;
  for (uint64_t seq = from; seq <= to; ++seq) {
    JobEvent event = ft::testing::LogEvent("e" + std::to_string(seq));
    event.set_job_id(job_id);
    event.set_seq(seq);
    events.push_back(event);
  }
  return events;
}

std::vector<uint64_t> SeqsOf(const std::optional<std::vector<JobEvent>>& events) {
  std::vector<uint64_t> seqs;
  if (events) {
    for (const JobEvent& event : *events) seqs.push_back(event.seq());
  }
  return seqs;
}

TEST(EventHubTest, PublishWakesTheJobsListenersOnly) {
  EventHub hub;
  auto a1 = std::make_shared<CountingListener>();
  auto a2 = std::make_shared<CountingListener>();
  auto b = std::make_shared<CountingListener>();
  hub.Subscribe("job-a", a1);
  hub.Subscribe("job-a", a2);
  hub.Subscribe("job-b", b);
  EXPECT_EQ(hub.listener_count("job-a"), 2u);
  EXPECT_EQ(hub.listener_count("job-b"), 1u);
  EXPECT_EQ(hub.listener_count("job-c"), 0u);

  hub.Publish("job-a", Seqs("job-a", 1, 2));
  EXPECT_EQ(a1->wakeups.load(), 1);  // once per batch, not per event
  EXPECT_EQ(a2->wakeups.load(), 1);
  EXPECT_EQ(b->wakeups.load(), 0);

  hub.Unsubscribe("job-a", a1.get());
  EXPECT_EQ(hub.listener_count("job-a"), 1u);
  hub.Publish("job-a", Seqs("job-a", 3, 3));
  EXPECT_EQ(a1->wakeups.load(), 1);
  EXPECT_EQ(a2->wakeups.load(), 2);

  hub.Unsubscribe("job-a", a2.get());
  hub.Unsubscribe("job-a", a2.get());  // twice is harmless
  hub.Unsubscribe("job-x", b.get());   // unknown job too
  EXPECT_EQ(hub.listener_count("job-a"), 0u);
  hub.Publish("job-a", Seqs("job-a", 4, 4));
  EXPECT_EQ(a2->wakeups.load(), 2);

  hub.Publish("job-b", Seqs("job-b", 1, 1));
  EXPECT_EQ(b->wakeups.load(), 1);
}

TEST(EventHubTest, ListenerSurvivesTheCallersReference) {
  EventHub hub;
  std::weak_ptr<CountingListener> weak;
  {
    auto listener = std::make_shared<CountingListener>();
    weak = listener;
    hub.Subscribe("job-a", listener);
  }
  ASSERT_FALSE(weak.expired()) << "the hub keeps subscribed listeners alive";
  hub.Publish("job-a", Seqs("job-a", 1, 1));
  EXPECT_EQ(weak.lock()->wakeups.load(), 1);
  hub.Unsubscribe("job-a", weak.lock().get());
  EXPECT_TRUE(weak.expired());
}

// A listener that reads back through the hub while being woken: must not deadlock.
class ReentrantListener : public EventListener {
 public:
  explicit ReentrantListener(EventHub* hub) : hub_(hub) {}
  void OnNewEvents() override {
    auto events = hub_->CachedAfter("job-a", seen_, 100);
    if (events) {
      for (const auto& event : *events) seen_ = event.seq();
    }
    hub_->listener_count("job-a");
  }
  EventHub* hub_;
  uint64_t seen_ = 0;
};

TEST(EventHubTest, ListenerMayCallBackIntoTheHub) {
  EventHub hub;
  auto listener = std::make_shared<ReentrantListener>(&hub);
  hub.Subscribe("job-a", listener);
  hub.Publish("job-a", Seqs("job-a", 1, 3));
  EXPECT_EQ(listener->seen_, 3u);
  hub.Publish("job-a", Seqs("job-a", 4, 5));
  EXPECT_EQ(listener->seen_, 5u);
}

TEST(EventHubTest, CachedAfterReturnsExactlyTheLaterEvents) {
  EventHub hub(4);
  hub.Publish("job-a", Seqs("job-a", 1, 3));
  EXPECT_EQ(SeqsOf(hub.CachedAfter("job-a", 0, 100)), (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(SeqsOf(hub.CachedAfter("job-a", 1, 100)), (std::vector<uint64_t>{2, 3}));
  EXPECT_EQ(SeqsOf(hub.CachedAfter("job-a", 1, 1)), (std::vector<uint64_t>{2}));
  auto none = hub.CachedAfter("job-a", 3, 100);
  ASSERT_TRUE(none.has_value()) << "up to date is a proven empty answer";
  EXPECT_TRUE(none->empty());
  auto limited = hub.CachedAfter("job-a", 0, 0);
  ASSERT_TRUE(limited.has_value());
  EXPECT_TRUE(limited->empty());
  EXPECT_FALSE(hub.CachedAfter("job-unknown", 0, 100).has_value());
}

TEST(EventHubTest, CachedAfterIsNulloptWhenTheCacheDoesNotReachBack) {
  EventHub hub(4);
  hub.Publish("job-a", Seqs("job-a", 1, 3));
  hub.Publish("job-a", Seqs("job-a", 4, 6));  // cache now holds 3..6
  EXPECT_FALSE(hub.CachedAfter("job-a", 0, 100).has_value());
  EXPECT_FALSE(hub.CachedAfter("job-a", 1, 100).has_value());
  EXPECT_EQ(SeqsOf(hub.CachedAfter("job-a", 2, 100)), (std::vector<uint64_t>{3, 4, 5, 6}));
  EXPECT_EQ(SeqsOf(hub.CachedAfter("job-a", 5, 100)), (std::vector<uint64_t>{6}));

  // One big batch larger than the cache keeps only the newest.
  hub.Publish("job-b", Seqs("job-b", 1, 10));
  EXPECT_FALSE(hub.CachedAfter("job-b", 5, 100).has_value());
  EXPECT_EQ(SeqsOf(hub.CachedAfter("job-b", 6, 100)), (std::vector<uint64_t>{7, 8, 9, 10}));
}

TEST(EventHubTest, GapResetsTheCache) {
  EventHub hub(8);
  hub.Publish("job-a", Seqs("job-a", 1, 2));
  hub.Publish("job-a", Seqs("job-a", 5, 5));  // 3 and 4 never reached the hub
  EXPECT_FALSE(hub.CachedAfter("job-a", 2, 100).has_value());
  EXPECT_FALSE(hub.CachedAfter("job-a", 0, 100).has_value());
  EXPECT_EQ(SeqsOf(hub.CachedAfter("job-a", 4, 100)), (std::vector<uint64_t>{5}));
}

TEST(EventHubTest, LateOlderEventDoesNotHideNewerOnes) {
  // Two changes of one job stored as 5 and 6 by different threads may be published 6 first.
  EventHub hub(8);
  hub.Publish("job-a", Seqs("job-a", 1, 4));
  hub.Publish("job-a", Seqs("job-a", 6, 6));
  hub.Publish("job-a", Seqs("job-a", 5, 5));
  // A watcher that has 5 must learn about 6 (or be sent to the store), never "nothing new".
  auto after5 = hub.CachedAfter("job-a", 5, 100);
  if (after5.has_value()) EXPECT_EQ(SeqsOf(after5), (std::vector<uint64_t>{6}));
  // Whatever the cache answers for earlier positions is complete and contiguous.
  for (uint64_t after = 0; after <= 6; ++after) {
    auto events = hub.CachedAfter("job-a", after, 100);
    if (!events) continue;
    std::vector<uint64_t> expected;
    for (uint64_t seq = after + 1; seq <= 6; ++seq) expected.push_back(seq);
    EXPECT_EQ(SeqsOf(events), expected) << "after " << after;
  }
  // Later events continue the cache normally.
  hub.Publish("job-a", Seqs("job-a", 7, 7));
  EXPECT_EQ(SeqsOf(hub.CachedAfter("job-a", 6, 100)), (std::vector<uint64_t>{7}));
}

TEST(EventHubTest, ForgetDropsTheCacheButNotListeners) {
  EventHub hub(4);
  auto listener = std::make_shared<CountingListener>();
  hub.Subscribe("job-a", listener);
  hub.Publish("job-a", Seqs("job-a", 1, 2));
  hub.Forget("job-a");
  EXPECT_FALSE(hub.CachedAfter("job-a", 0, 100).has_value());
  EXPECT_EQ(hub.listener_count("job-a"), 1u);
  hub.Publish("job-a", Seqs("job-a", 3, 3));
  EXPECT_EQ(listener->wakeups.load(), 2);
  EXPECT_FALSE(hub.CachedAfter("job-a", 0, 100).has_value());
  EXPECT_EQ(SeqsOf(hub.CachedAfter("job-a", 2, 100)), (std::vector<uint64_t>{3}));
}

TEST(EventHubTest, ConcurrentPublishersAndReaders) {
  EventHub hub(16);
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (int j = 0; j < 4; ++j) {
    threads.emplace_back([&hub, j] {
      const std::string id = "job-" + std::to_string(j);
      auto listener = std::make_shared<CountingListener>();
      hub.Subscribe(id, listener);
      for (uint64_t seq = 1; seq <= 500; ++seq) hub.Publish(id, Seqs(id, seq, seq));
      EXPECT_EQ(listener->wakeups.load(), 500);
      hub.Unsubscribe(id, listener.get());
    });
  }
  threads.emplace_back([&] {
    while (!done) {
      for (int j = 0; j < 4; ++j) {
        auto events = hub.CachedAfter("job-" + std::to_string(j), 0, 100);
        if (events && !events->empty()) {
          // A proven answer starts at seq 1 and is contiguous.
          EXPECT_EQ(events->front().seq(), 1u);
          for (size_t i = 1; i < events->size(); ++i) {
            EXPECT_EQ((*events)[i].seq(), (*events)[i - 1].seq() + 1);
          }
        }
      }
    }
  });
  for (int j = 0; j < 4; ++j) threads[j].join();
  done = true;
  threads.back().join();
  for (int j = 0; j < 4; ++j) {
    const std::string id = "job-" + std::to_string(j);
    EXPECT_EQ(SeqsOf(hub.CachedAfter(id, 498, 100)), (std::vector<uint64_t>{499, 500}));
    EXPECT_EQ(hub.listener_count(id), 0u);
  }
}

}  // namespace
}  // namespace ft::sched
