// The load test's own logic: the stream checker must refuse every way a watcher's events can be
// wrong, and the percentiles must be nearest-rank.
#include <gtest/gtest.h>

#include "tests/load/event_stream_check.h"
#include "tests/load/latency_stats.h"
#include "tests/load/load_options.h"

namespace ft::load {
namespace {

std::vector<ft::v1::JobEvent> StoredLog(int n) {
  std::vector<ft::v1::JobEvent> events;
  for (int i = 1; i <= n; ++i) {
    ft::v1::JobEvent event;
    event.set_job_id("job-1");
    event.set_seq(i);
    event.mutable_time()->set_seconds(1000 + i);
    if (i == n) {
      event.mutable_state_change()->set_from(ft::v1::RUNNING);
      event.mutable_state_change()->set_to(ft::v1::SUCCEEDED);
    } else {
      event.mutable_progress()->set_step(i);
    }
    events.push_back(event);
  }
  return events;
}

TEST(EventStreamCheck, AcceptsTheWholeLog) {
  const auto stored = StoredLog(5);
  EXPECT_EQ(CheckWatchedEvents(stored, stored), "");
}

TEST(EventStreamCheck, RefusesAGap) {
  const auto stored = StoredLog(5);
  auto received = stored;
  received.erase(received.begin() + 2);
  EXPECT_NE(CheckWatchedEvents(received, stored).find("seq 4, expected 3"), std::string::npos);
}

TEST(EventStreamCheck, RefusesARepeatAndAReordering) {
  const auto stored = StoredLog(5);
  auto repeated = stored;
  repeated.insert(repeated.begin() + 2, stored[1]);  // a resume from the wrong seq
  EXPECT_NE(CheckWatchedEvents(repeated, stored), "");
  auto swapped = stored;
  std::swap(swapped[1], swapped[2]);
  EXPECT_NE(CheckWatchedEvents(swapped, stored), "");
}

TEST(EventStreamCheck, RefusesAChangedEvent) {
  const auto stored = StoredLog(5);
  auto received = stored;
  received[3].mutable_progress()->set_step(99);
  EXPECT_NE(CheckWatchedEvents(received, stored).find("seq 4 differs"), std::string::npos);
}

TEST(EventStreamCheck, RefusesAMissingEndAndAnExtraEvent) {
  const auto stored = StoredLog(5);
  const std::vector<ft::v1::JobEvent> cut(stored.begin(), stored.begin() + 4);
  EXPECT_NE(CheckWatchedEvents(cut, stored).find("received 4 events of 5"), std::string::npos);
  // The store's log itself without a terminal event: a stream that ended too early.
  EXPECT_NE(CheckWatchedEvents(cut, cut).find("terminal"), std::string::npos);
  auto extra = stored;
  extra.push_back(stored.back());
  extra.back().set_seq(6);
  EXPECT_NE(CheckWatchedEvents(extra, stored).find("not stored"), std::string::npos);
  EXPECT_NE(CheckWatchedEvents({}, stored), "");
}

TEST(LatencyStats, NearestRank) {
  LatencyStats stats;
  EXPECT_EQ(stats.Percentile(99), 0);
  for (int i = 100; i >= 1; --i) stats.Add(i);
  EXPECT_EQ(stats.Percentile(50), 50);
  EXPECT_EQ(stats.Percentile(99), 99);
  EXPECT_EQ(stats.Percentile(100), 100);
  EXPECT_EQ(stats.Max(), 100);
  LatencyStats more;
  more.Add(1000);
  stats.Merge(more);
  EXPECT_EQ(stats.Max(), 1000);
  EXPECT_EQ(stats.Percentile(100), 1000);
  EXPECT_EQ(stats.count(), 101u);
}

TEST(LoadOptions, ParsesAndRefuses) {
  LoadOptions options;
  std::vector<std::string> rest;
  const char* argv[] = {"ft_load", "--submissions=150", "--watchers=40", "--clients", "10", "--check",
                        "--submit-rate", "200", "--gtest_filter=*", "--ftd-flag=--max-watchers=300"};
  EXPECT_EQ(ParseLoadOptions(10, const_cast<char**>(argv), &options, &rest), "");
  EXPECT_EQ(options.submissions, 150);
  EXPECT_EQ(options.clients, 10);
  EXPECT_EQ(options.submit_rate, 200);
  EXPECT_TRUE(options.check);
  EXPECT_EQ(options.ftd_flags, std::vector<std::string>{"--max-watchers=300"});
  EXPECT_EQ(rest, std::vector<std::string>{"--gtest_filter=*"});
  LoadOptions bad;
  const char* bad_argv[] = {"ft_load", "--watchers", "many"};
  EXPECT_NE(ParseLoadOptions(3, const_cast<char**>(bad_argv), &bad, &rest).find("--watchers"),
            std::string::npos);
}

}  // namespace
}  // namespace ft::load
