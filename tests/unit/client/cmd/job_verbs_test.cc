// ftctl's events, logs, wait and retry verbs and the -o formats, against the in-process fake ftd.
#include "client/lib/cmd/event_verbs.h"
#include "client/lib/cmd/retry_command.h"
#include "client/lib/cmd/wait_command.h"
#include "client/lib/rpc/rpc_errors.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/unit/client/fake_ftd.h"

namespace ft::client {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

using JobVerbsTest = FakeFtdTest;

ft::v1::JobEvent Log(uint64_t seq, const std::string& level, const std::string& message) {
  ft::v1::JobEvent event;
  event.set_job_id("job-1");
  event.set_seq(seq);
  event.mutable_time()->set_seconds(1764143999);  // 2025-11-26T07:59:59Z
  event.mutable_log()->set_level(level);
  event.mutable_log()->set_message(message);
  return event;
}

// Life() with a warning logged before the end.
std::vector<ft::v1::JobEvent> LifeWithLog(ft::v1::JobState final) {
  std::vector<ft::v1::JobEvent> events = Life(final);
  ft::v1::JobEvent last = events.back();
  events.back() = Log(6, "warning", "loss spiked");
  last.set_seq(7);
  events.push_back(last);
  return events;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1) {
    lines.push_back(text.substr(start, end - start));
  }
  return lines;
}

TEST_F(JobVerbsTest, EventsOfAnEndedJobOnePerLine) {
  service_.AddJob(ft::v1::SUCCEEDED);
  service_.SetEvents(LifeWithLog(ft::v1::SUCCEEDED));
  EventsArgs args;
  args.job_id = "job-1";
  EXPECT_EQ(RunEvents(ftd_, args, console_, nullptr), kExitOk) << err_.str();
  const std::vector<std::string> lines = Lines(out_.str());
  ASSERT_EQ(lines.size(), 7u) << out_.str();
  EXPECT_EQ(lines[0], "[job-1 #1] state QUEUED: submitted");
  EXPECT_EQ(lines[5], "[job-1 #6] log warning: loss spiked");
  EXPECT_EQ(lines[6], "[job-1 #7] state RUNNING -> SUCCEEDED: done");
}

TEST_F(JobVerbsTest, EventsAsJsonLinesReadBack) {
  service_.AddJob(ft::v1::SUCCEEDED);
  service_.SetEvents(LifeWithLog(ft::v1::SUCCEEDED));
  EventsArgs args;
  args.job_id = "job-1";
  args.after_seq = 2;
  args.output = OutputFormat::kJson;
  EXPECT_EQ(RunEvents(ftd_, args, console_, nullptr), kExitOk) << err_.str();
  const std::vector<std::string> lines = Lines(out_.str());
  ASSERT_EQ(lines.size(), 5u) << out_.str();
  for (size_t i = 0; i < lines.size(); ++i) {
    ft::v1::JobEvent event;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(lines[i], &event).ok()) << lines[i];
    EXPECT_EQ(event.seq(), i + 3);
  }
}

TEST_F(JobVerbsTest, EventsAsYamlDocuments) {
  service_.AddJob(ft::v1::SUCCEEDED);
  service_.SetEvents(Life(ft::v1::SUCCEEDED));
  EventsArgs args;
  args.job_id = "job-1";
  args.output = OutputFormat::kYaml;
  EXPECT_EQ(RunEvents(ftd_, args, console_, nullptr), kExitOk);
  EXPECT_THAT(out_.str(), StartsWith("---\njob_id: \"job-1\"\nseq: \"1\"\n"));
}

TEST_F(JobVerbsTest, LogsShowOnlyLogLinesWithTimeAndLevel) {
  service_.AddJob(ft::v1::SUCCEEDED);
  service_.SetEvents(LifeWithLog(ft::v1::SUCCEEDED));
  EventsArgs args;
  args.job_id = "job-1";
  args.logs_only = true;
  EXPECT_EQ(RunEvents(ftd_, args, console_, nullptr), kExitOk);
  EXPECT_EQ(out_.str(), "2025-11-26T07:59:59Z warning: loss spiked\n");
}

TEST_F(JobVerbsTest, FollowResumesAfterTheLastSeqWhenTheStreamDrops) {
  service_.AddJob(ft::v1::RUNNING);
  service_.SetEvents(LifeWithLog(ft::v1::FAILED));
  service_.SetLastEventSeq("job-1", 2);
  // The first stream breaks after event 4; the second goes to the end.
  service_.SetWatchSteps({{4, grpc::Status(grpc::StatusCode::UNAVAILABLE, "connection reset")},
                          {UINT64_MAX, grpc::Status::OK}});
  EventsArgs args;
  args.job_id = "job-1";
  args.follow = true;
  EXPECT_EQ(RunEvents(ftd_, args, console_, nullptr), kExitOk) << err_.str();
  EXPECT_EQ(Lines(out_.str()).size(), 7u) << out_.str();  // each event once
  EXPECT_THAT(service_.watch_after_seqs(), ElementsAre(0, 4));
  EXPECT_THAT(err_.str(), HasSubstr("reconnecting"));
}

TEST_F(JobVerbsTest, UnknownJobIsExitCode3) {
  EventsArgs args;
  args.job_id = "job-9";
  EXPECT_EQ(RunEvents(ftd_, args, console_, nullptr), kExitNotFound);
  EXPECT_EQ(RunWait(ftd_, {"job-9"}, console_, nullptr), kExitNotFound);
  EXPECT_EQ(RunRetry(ftd_, {"job-9"}, console_, nullptr), kExitNotFound);
  EXPECT_THAT(err_.str(), HasSubstr("ftctl: NOT_FOUND: no job"));
}

TEST_F(JobVerbsTest, WaitExitCodeIsTheOutcome) {
  service_.AddJob(ft::v1::RUNNING);
  service_.SetEvents(Life(ft::v1::FAILED));
  service_.SetLastEventSeq("job-1", 3);
  EXPECT_EQ(RunWait(ftd_, {"job-1"}, console_, nullptr), kExitFailure) << err_.str();
  EXPECT_THAT(out_.str(), StartsWith("job-1 FAILED"));
  EXPECT_THAT(service_.watch_after_seqs(), ElementsAre(3));  // no replay of the whole log
}

TEST_F(JobVerbsTest, WaitOnAnEndedJobAnswersAtOnce) {
  service_.AddJob(ft::v1::CANCELLED);
  WaitArgs args{"job-1"};
  args.output = OutputFormat::kJson;
  EXPECT_EQ(RunWait(ftd_, args, console_, nullptr), kExitCancelled);
  EXPECT_THAT(out_.str(), HasSubstr("\"state\": \"CANCELLED\""));
  EXPECT_TRUE(service_.watch_after_seqs().empty());
}

TEST_F(JobVerbsTest, WaitTimeoutLeavesTheJobRunning) {
  service_.AddJob(ft::v1::RUNNING);
  std::vector<ft::v1::JobEvent> events = Life(ft::v1::SUCCEEDED);
  events.resize(3);
  service_.SetEvents(events);
  service_.SetBlockWatch(true);
  WaitArgs args{"job-1"};
  args.timeout = absl::Milliseconds(300);
  EXPECT_EQ(RunWait(ftd_, args, console_, nullptr), kExitTimeout);
  EXPECT_EQ(out_.str(), "");
  EXPECT_THAT(err_.str(), HasSubstr("job-1 is still RUNNING after"));
}

TEST_F(JobVerbsTest, RetryResubmitsTheSpecOfAFailedJob) {
  ft::v1::Job& failed = service_.AddJob(ft::v1::FAILED);
  failed.mutable_spec()->set_micro_batch_size(8);
  failed.mutable_spec()->set_display_name("first try");
  EXPECT_EQ(RunRetry(ftd_, {"job-1"}, console_, nullptr), kExitOk) << err_.str();
  EXPECT_EQ(out_.str(), "job-2\n");
  EXPECT_THAT(err_.str(), HasSubstr("job-1 (FAILED) resubmitted as job-2"));
  ASSERT_EQ(service_.submits().size(), 1u);
  EXPECT_EQ(service_.submits()[0].spec().micro_batch_size(), 8u);
  EXPECT_EQ(service_.submits()[0].spec().display_name(), "first try");
  EXPECT_FALSE(service_.submits()[0].request_id().empty());
}

TEST_F(JobVerbsTest, RetryRefusesARunningOrSucceededJobUnlessForced) {
  service_.AddJob(ft::v1::RUNNING).mutable_spec()->set_micro_batch_size(8);
  service_.AddJob(ft::v1::SUCCEEDED).mutable_spec()->set_micro_batch_size(8);
  EXPECT_EQ(RunRetry(ftd_, {"job-1"}, console_, nullptr), kExitRefused);
  EXPECT_THAT(err_.str(), HasSubstr("job-1 is RUNNING (it has not ended); retry resubmits only "
                                    "FAILED or CANCELLED jobs (--force"));
  EXPECT_EQ(RunRetry(ftd_, {"job-2"}, console_, nullptr), kExitRefused);
  EXPECT_TRUE(service_.submits().empty());
  RetryArgs forced{"job-2"};
  forced.force = true;
  forced.output = OutputFormat::kYaml;
  EXPECT_EQ(RunRetry(ftd_, forced, console_, nullptr), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("id: \"job-3\"\n"));
}

TEST_F(JobVerbsTest, OutputFormatsOfListGetSubmit) {
  SubmitArgs submit = Submit();
  submit.output = OutputFormat::kJson;
  EXPECT_EQ(RunSubmit(ftd_, submit, console_, nullptr), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("\"id\": \"job-1\""));
  service_.AddJob(ft::v1::QUEUED);

  out_.str("");
  ListArgs ids;
  ids.output = OutputFormat::kIds;
  EXPECT_EQ(RunList(ftd_, ids, console_), kExitOk);
  EXPECT_EQ(out_.str(), "job-2\njob-1\n");

  out_.str("");
  ListArgs yaml;
  yaml.output = OutputFormat::kYaml;
  EXPECT_EQ(RunList(ftd_, yaml, console_), kExitOk);
  EXPECT_THAT(out_.str(),
              StartsWith("- id: \"job-2\"\n  spec:\n    model: \"scratch:bloom-tiny\"\n"));
  EXPECT_THAT(out_.str(), HasSubstr("\n  state: \"QUEUED\"\n"));

  out_.str("");
  EXPECT_EQ(RunGet(ftd_, {"job-1", OutputFormat::kYaml}, console_), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("\nstate: \"QUEUED\"\n"));
  EXPECT_THAT(out_.str(), HasSubstr("\nspec:\n  model: \"scratch:bloom-tiny\"\n"));
}

TEST_F(JobVerbsTest, ColoursOnlyWhenThePaletteIsOn) {
  service_.AddJob(ft::v1::FAILED);
  EXPECT_EQ(RunList(ftd_, {}, console_), kExitOk);
  EXPECT_THAT(out_.str(), Not(HasSubstr("\033[")));
  out_.str("");
  console_.palette = Palette(true);
  EXPECT_EQ(RunList(ftd_, {}, console_), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("\033[31mFAILED\033[0m"));
}

}  // namespace
}  // namespace ft::client
