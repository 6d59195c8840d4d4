#include "client/lib/plot/event_log_file.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/temp_dir.h"

namespace ft::client {
namespace {

using ::testing::HasSubstr;

// Two lines as ftd writes them (server/sched/job_manager.cc: proto field names).
constexpr const char* kLog =
    "{\"job_id\":\"job-3\",\"seq\":\"1\",\"state_change\":{\"to\":\"QUEUED\"}}\n"
    "{\"job_id\":\"job-3\",\"seq\":\"2\",\"attempt\":1,\"progress\":{\"step\":\"10\","
    "\"loss\":0.69,\"samples_seen\":\"160\"}}\n"
    "\n"
    "{\"job_id\":\"job-3\",\"seq\":\"3\",\"evaluation\":{\"split\":\"validation\",\"step\":\"10\","
    "\"accuracy\":0.5,\"examples\":\"20\"},\"future_field\":1}\n";

TEST(EventLogFileTest, ReadsTheLogAndTheLabelFromResultJsonBesideIt) {
  ft::testing::TempDir dir;
  const std::string path = dir.Write("jobs/job-3/events.jsonl", kLog);
  dir.Write("jobs/job-3/result.json",
            R"({"options": {"micro_batch_size": 1, "accumulation_steps": 16},
                "spec": {"model": "scratch:bloom-tiny", "display_name": "seed <1x16>"}})");
  absl::StatusOr<JobLog> log = ReadEventLogFile(path);
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ(log->job_id, "job-3");
  ASSERT_EQ(log->events.size(), 3u);
  EXPECT_EQ(log->events[1].progress().step(), 10u);
  EXPECT_EQ(log->events[1].progress().samples_seen(), 160u);
  EXPECT_EQ(log->events[2].evaluation().accuracy(), 0.5);
  EXPECT_EQ(log->label.micro_batch_size, 1u);
  EXPECT_EQ(log->label.accumulation_steps, 16u);
  EXPECT_EQ(log->label.display_name, "seed <1x16>");
}

TEST(EventLogFileTest, WithoutResultJsonTheLabelIsEmpty) {
  ft::testing::TempDir dir;
  dir.Write("x/result.json", "{not json");
  absl::StatusOr<JobLog> log = ReadEventLogFile(dir.Write("x/events.jsonl", kLog));
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ(log->label.micro_batch_size, 0u);
  EXPECT_EQ(log->label.display_name, "");
}

TEST(EventLogFileTest, ErrorsNameTheFileAndLine) {
  ft::testing::TempDir dir;
  absl::StatusOr<JobLog> log = ReadEventLogFile(dir.Path("missing.jsonl"));
  EXPECT_EQ(log.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(log.status().message(), HasSubstr("missing.jsonl"));

  const std::string bad = dir.Write("bad.jsonl", std::string(kLog) + "{\"seq\": \"x\"}\n");
  log = ReadEventLogFile(bad);
  EXPECT_EQ(log.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(log.status().message(), HasSubstr("bad.jsonl:5: not a job event in JSON"));

  const std::string mixed =
      dir.Write("mixed.jsonl", std::string(kLog) + "{\"job_id\":\"job-4\",\"seq\":\"4\"}\n");
  log = ReadEventLogFile(mixed);
  EXPECT_EQ(log.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(log.status().message(),
              HasSubstr("mixed.jsonl:5: an event of job 'job-4' in the log of job 'job-3'"));

  log = ReadEventLogFile(dir.Write("empty.jsonl", "\n\n"));
  EXPECT_EQ(log.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(log.status().message(), HasSubstr("empty.jsonl: no job events"));
}

}  // namespace
}  // namespace ft::client
