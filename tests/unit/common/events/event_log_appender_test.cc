#include "common/events/event_log_appender.h"

#include "common/events/event_log_file.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace ft::events {
namespace {

ft::v1::JobEvent Log(const std::string& message) {
  ft::v1::JobEvent event;
  event.mutable_log()->set_message(message);
  return event;
}

TEST(EventLogAppenderTest, NumbersFromOneAndEachLineIsOnDiskAtOnce) {
  ft::testing::TempDir dir;
  const std::string folder = dir.Path("out");  // created by Open
  absl::StatusOr<std::unique_ptr<EventLogAppender>> appender = EventLogAppender::Open(folder);
  ASSERT_TRUE(appender.ok()) << appender.status();
  ASSERT_TRUE((*appender)->Append(Log("a")).ok());
  ASSERT_TRUE((*appender)->Append(Log("b")).ok());
  EXPECT_EQ((*appender)->last_seq(), 2u);

  // Read while the appender is still open: flushed per line.
  absl::StatusOr<EventLog> log = ReadEventLog(EventLogPath(folder));
  ASSERT_TRUE(log.ok()) << log.status();
  ASSERT_EQ(log->events.size(), 2u);
  EXPECT_EQ(log->events[0].seq(), 1u);
  EXPECT_EQ(log->events[1].seq(), 2u);
  EXPECT_EQ(log->events[1].log().message(), "b");
}

TEST(EventLogAppenderTest, ASecondRunContinuesTheNumbers) {
  ft::testing::TempDir dir;
  const std::string folder = dir.Path("out");
  {
    auto first = EventLogAppender::Open(folder);
    ASSERT_TRUE(first.ok()) << first.status();
    ASSERT_TRUE((*first)->Append(Log("first run")).ok());
  }
  auto second = EventLogAppender::Open(folder);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ((*second)->last_seq(), 1u);
  ASSERT_TRUE((*second)->Append(Log("second run")).ok());

  absl::StatusOr<EventLog> log = ReadEventLog(EventLogPath(folder));
  ASSERT_TRUE(log.ok()) << log.status();
  ASSERT_EQ(log->events.size(), 2u);
  EXPECT_EQ(log->events[1].seq(), 2u);
  EXPECT_EQ(log->events[1].log().message(), "second run");
}

TEST(EventLogAppenderTest, AFolderThatCannotBeMadeIsAnError) {
  ft::testing::TempDir dir;
  const std::string file = dir.Write("file", "x");
  EXPECT_FALSE(EventLogAppender::Open(file + "/out").ok());
}

}  // namespace
}  // namespace ft::events
