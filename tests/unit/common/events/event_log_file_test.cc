#include "common/events/event_log_file.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace ft::events {
namespace {

using ::testing::HasSubstr;

ft::v1::JobEvent Progress(const std::string& job_id, uint64_t seq, double loss) {
  ft::v1::JobEvent event;
  event.set_job_id(job_id);
  event.set_seq(seq);
  event.mutable_progress()->set_step(10 * seq);
  event.mutable_progress()->set_loss(loss);
  return event;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(EventLogFileTest, PathIsEventsJsonlInTheFolder) {
  EXPECT_EQ(EventLogPath("/home/jobs/job-3"), "/home/jobs/job-3/events.jsonl");
}

TEST(EventLogFileTest, LinesUseTheProtoFieldNames) {
  ft::v1::JobEvent event;
  event.set_job_id("job-3");
  event.set_seq(1);
  event.mutable_state_change()->set_to(ft::v1::QUEUED);
  absl::StatusOr<std::string> line = EventToLine(event);
  ASSERT_TRUE(line.ok()) << line.status();
  EXPECT_EQ(*line, R"({"job_id":"job-3","seq":"1","state_change":{"to":"QUEUED"}})");
}

TEST(EventLogFileTest, WrittenLogReadsBackExactly) {
  ft::testing::TempDir dir;
  const std::string path = EventLogPath(dir.Path("jobs/job-3"));  // the folder does not exist
  const double loss = 0.1 + 0.2;                                  // not a short decimal
  ASSERT_TRUE(WriteEventLog(path, {Progress("job-3", 1, loss), Progress("job-3", 2, 0.5)}).ok());
  const std::string text = ReadAll(path);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2) << text;

  absl::StatusOr<EventLog> log = ReadEventLog(path);
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ(log->job_id, "job-3");
  ASSERT_EQ(log->events.size(), 2u);
  EXPECT_EQ(log->events[0].progress().loss(), loss) << "full precision";
  EXPECT_EQ(log->events[1].seq(), 2u);

  // Writing again replaces the file.
  ASSERT_TRUE(WriteEventLog(path, {Progress("job-3", 1, 0.7)}).ok());
  log = ReadEventLog(path);
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ(log->events.size(), 1u);
}

TEST(EventLogFileTest, UnknownFieldsAndBlankLinesAreSkipped) {
  ft::testing::TempDir dir;
  const std::string path =
      dir.Write("job-5/events.jsonl",
                "{\"seq\":\"1\",\"progress\":{\"step\":\"3\"},\"future_field\":1}\n\n  \n"
                "{\"seq\":\"2\",\"log\":{\"message\":\"hi\"}}\n");
  absl::StatusOr<EventLog> log = ReadEventLog(path);
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ(log->events.size(), 2u);
  EXPECT_EQ(log->job_id, "job-5") << "events without a job id: the folder's name";
}

TEST(EventLogFileTest, ErrorsNameTheFileAndLine) {
  ft::testing::TempDir dir;
  absl::StatusOr<EventLog> log = ReadEventLog(dir.Path("missing.jsonl"));
  EXPECT_EQ(log.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(log.status().message(), HasSubstr("missing.jsonl"));

  log = ReadEventLog(dir.Write("bad.jsonl", "{\"seq\":\"1\"}\n\n{\"seq\": \"x\"}\n"));
  EXPECT_EQ(log.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(log.status().message(), HasSubstr("bad.jsonl:3: not a job event in JSON"));

  log = ReadEventLog(dir.Write("mixed.jsonl", "{\"job_id\":\"a\"}\n{\"job_id\":\"b\"}\n"));
  EXPECT_EQ(log.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(log.status().message(),
              HasSubstr("mixed.jsonl:2: an event of job 'b' in the log of job 'a'"));

  log = ReadEventLog(dir.Write("empty.jsonl", "\n"));
  EXPECT_EQ(log.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(log.status().message(), HasSubstr("empty.jsonl: no job events"));
}

TEST(EventLogFileTest, UnwritablePathIsAnError) {
  ft::testing::TempDir dir;
  const std::string file = dir.Write("file", "x");
  EXPECT_FALSE(WriteEventLog(file + "/events.jsonl", {Progress("j", 1, 0.5)}).ok());
}

}  // namespace
}  // namespace ft::events
