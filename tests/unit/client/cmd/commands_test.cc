// ftctl's verbs against an in-process fake FinetuneService.
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "ft/v1/finetune_service.grpc.pb.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "client/lib/cmd/ftctl_commands.h"
#include "client/lib/rpc/job_follower.h"
#include "client/lib/cmd/plot_command.h"
#include "client/lib/rpc/rpc_errors.h"
#include "tests/unit/client/fake_ftd.h"
#include "tests/support/temp_dir.h"

namespace ft::client {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

using CommandsTest = FakeFtdTest;

TEST_F(CommandsTest, SubmitPrintsOnlyTheIdAndSendsAbsolutePathsAndDefaults) {
  EXPECT_EQ(RunSubmit(ftd_, Submit(), console_, nullptr), kExitOk);
  EXPECT_EQ(out_.str(), "job-1\n");
  EXPECT_EQ(err_.str(), "");
  ASSERT_EQ(service_.submits().size(), 1u);
  const ft::v1::SubmitJobRequest request = service_.submits()[0];
  EXPECT_EQ(request.spec().dataset().train(), "/home/me/data/sms.csv");
  EXPECT_EQ(request.spec().micro_batch_size(), 8u);
  EXPECT_EQ(request.spec().accumulation_steps(), 1u);
  EXPECT_EQ(request.spec().epochs(), 1u);
  EXPECT_EQ(request.request_id().size(), 36u);
}

TEST_F(CommandsTest, SubmitRetriesOnceWithTheSameRequestId) {
  service_.SetSubmitFailures(1);
  EXPECT_EQ(RunSubmit(ftd_, Submit(), console_, nullptr), kExitOk);
  EXPECT_EQ(out_.str(), "job-1\n");
  const auto submits = service_.submits();
  ASSERT_EQ(submits.size(), 2u);
  EXPECT_EQ(submits[0].request_id(), submits[1].request_id());
}

TEST_F(CommandsTest, SubmitGivesUpAfterOneRetry) {
  service_.SetSubmitFailures(2);
  EXPECT_EQ(RunSubmit(ftd_, Submit(), console_, nullptr), kExitUnavailable);
  EXPECT_EQ(out_.str(), "");
  EXPECT_EQ(err_.str(), "ftctl: UNAVAILABLE: try again\n");
  EXPECT_EQ(service_.submits().size(), 2u);
}

TEST_F(CommandsTest, SubmitReportsTheServersValidationError) {
  SubmitArgs args = Submit();
  args.flags.micro_batch_size = 0;
  EXPECT_EQ(RunSubmit(ftd_, args, console_, nullptr), kExitBadRequest);
  EXPECT_EQ(err_.str(), "ftctl: INVALID_ARGUMENT: spec.micro_batch_size: must be 1..4096, got 0\n");
}

TEST_F(CommandsTest, SubmitWithAKnownRequestIdSaysSo) {
  SubmitArgs args = Submit();
  args.request_id = "abc";
  EXPECT_EQ(RunSubmit(ftd_, args, console_, nullptr), kExitOk);
  EXPECT_EQ(RunSubmit(ftd_, args, console_, nullptr), kExitOk);
  EXPECT_EQ(out_.str(), "job-1\njob-1\n");
  EXPECT_THAT(err_.str(), HasSubstr("already submitted as job-1"));
}

TEST_F(CommandsTest, SubmitMissingSpecFileIsAUsageError) {
  SubmitArgs args = Submit();
  args.spec_file = "/nonexistent/job.json";
  EXPECT_EQ(RunSubmit(ftd_, args, console_, nullptr), kExitBadRequest);
  EXPECT_THAT(err_.str(), HasSubstr("ftctl: /nonexistent/job.json: cannot read"));
  EXPECT_TRUE(service_.submits().empty());
}

TEST_F(CommandsTest, WatchPrintsEveryEventAndTheSummary) {
  service_.AddJob(ft::v1::RUNNING);
  service_.SetEvents(Life(ft::v1::SUCCEEDED));
  EXPECT_EQ(RunWatch(ftd_, {"job-1", 0}, console_, nullptr), kExitOk);
  EXPECT_EQ(out_.str(),
            "[job-1 #1] state QUEUED: submitted\n"
            "[job-1 #2] state QUEUED -> RUNNING: attempt 1 started on worker local-0\n"
            "[job-1 #3] step 10/20 loss 0.0000 lr 0.00e+00 0.0 samples/s 0 tokens/s eta 0s\n"
            "[job-1 #4] step 20/20 loss 0.0000 lr 0.00e+00 0.0 samples/s 0 tokens/s eta 0s\n"
            "[job-1 #5] eval validation: accuracy 80.00% loss 0.0000 (10 examples)\n"
            "[job-1 #6] state RUNNING -> SUCCEEDED: done\n"
            "job-1 SUCCEEDED\n");
}

TEST_F(CommandsTest, WatchExitCodesFollowTheFinalState) {
  service_.AddJob(ft::v1::RUNNING);
  service_.SetEvents(Life(ft::v1::FAILED));
  EXPECT_EQ(RunWatch(ftd_, {"job-1", 0}, console_, nullptr), kExitFailure);
  EXPECT_THAT(out_.str(), HasSubstr("job-1 FAILED\n"));

  service_.SetEvents(Life(ft::v1::CANCELLED));
  EXPECT_EQ(RunWatch(ftd_, {"job-1", 0}, console_, nullptr), kExitCancelled);
}

TEST_F(CommandsTest, WatchReconnectsAfterTheLastSeenEvent) {
  service_.AddJob(ft::v1::RUNNING);
  service_.SetEvents(Life(ft::v1::SUCCEEDED));
  service_.SetWatchSteps({{3, grpc::Status(grpc::StatusCode::UNAVAILABLE, "connection reset")},
                          {3, grpc::Status(grpc::StatusCode::UNAVAILABLE, "still down")}});
  EXPECT_EQ(RunWatch(ftd_, {"job-1", 0}, console_, nullptr), kExitOk);
  EXPECT_THAT(service_.watch_after_seqs(), ElementsAre(0, 3, 3));
  for (int seq = 1; seq <= 6; ++seq) {
    const std::string tag = "[job-1 #" + std::to_string(seq) + "]";
    const std::string out = out_.str();
    EXPECT_NE(out.find(tag), std::string::npos) << tag;
    EXPECT_EQ(out.find(tag), out.rfind(tag)) << tag << " shown twice";
  }
  EXPECT_THAT(err_.str(), HasSubstr("lost the event stream"));
  EXPECT_THAT(err_.str(), HasSubstr("reconnected"));
}

TEST_F(CommandsTest, WatchNeverShowsAnEventTwiceEvenIfReplayed) {
  service_.AddJob(ft::v1::RUNNING);
  service_.SetEvents(Life(ft::v1::SUCCEEDED));
  service_.SetReplayEverything(true);
  service_.SetWatchSteps({{4, grpc::Status(grpc::StatusCode::UNAVAILABLE, "reset")}});
  EXPECT_EQ(RunWatch(ftd_, {"job-1", 0}, console_, nullptr), kExitOk);
  const std::string out = out_.str();
  EXPECT_EQ(out.find("[job-1 #3]"), out.rfind("[job-1 #3]"));
  EXPECT_EQ(out.find("[job-1 #4]"), out.rfind("[job-1 #4]"));
}

TEST_F(CommandsTest, WatchAfterSeqSkipsEarlierEvents) {
  service_.AddJob(ft::v1::RUNNING);
  service_.SetEvents(Life(ft::v1::SUCCEEDED));
  EXPECT_EQ(RunWatch(ftd_, {"job-1", 4}, console_, nullptr), kExitOk);
  EXPECT_THAT(out_.str(), Not(HasSubstr("#4]")));
  EXPECT_THAT(out_.str(), HasSubstr("[job-1 #5]"));
  EXPECT_THAT(service_.watch_after_seqs(), ElementsAre(4));
}

TEST_F(CommandsTest, WatchOfAFinishedJobPastItsLastEventJustSummarizes) {
  ft::v1::Job& job = service_.AddJob(ft::v1::CANCELLED);
  job.set_last_event_seq(2);
  job.set_error("wrong dataset");
  EXPECT_EQ(RunWatch(ftd_, {"job-1", 2}, console_, nullptr), kExitCancelled);
  EXPECT_EQ(out_.str(), "job-1 CANCELLED\nerror: wrong dataset\n");
  EXPECT_TRUE(service_.watch_after_seqs().empty());
}

TEST_F(CommandsTest, WatchUnknownJob) {
  EXPECT_EQ(RunWatch(ftd_, {"job-9", 0}, console_, nullptr), kExitNotFound);
  EXPECT_EQ(err_.str(), "ftctl: NOT_FOUND: no job\n");
}

TEST_F(CommandsTest, WatchInterruptedByTheToken) {
  service_.AddJob(ft::v1::RUNNING);
  service_.SetEvents(Life(ft::v1::SUCCEEDED));
  service_.SetWatchSteps({{2, grpc::Status::OK}});
  service_.SetBlockWatch(true);
  CancelToken token;
  std::thread interrupter([&] {
    absl::SleepFor(absl::Milliseconds(200));
    while (!token.Cancel()) absl::SleepFor(absl::Milliseconds(10));  // until RunWatch arms it
  });
  EXPECT_EQ(RunWatch(ftd_, {"job-1", 0}, console_, &token), kExitInterrupted);
  interrupter.join();
  EXPECT_THAT(out_.str(), HasSubstr("[job-1 #2]"));
  EXPECT_THAT(err_.str(), HasSubstr("stopped watching job-1; the job goes on"));
}

TEST(FollowJobTest, GivesUpWhenTheStreamStaysDown) {
  FakeFinetuneService service;
  grpc::ServerBuilder builder;
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  auto stub = ft::v1::FinetuneService::NewStub(server->InProcessChannel(grpc::ChannelArguments()));
  service.AddJob(ft::v1::RUNNING);
  service.SetEvents(Life(ft::v1::SUCCEEDED));
  std::vector<WatchStep> down(100, {0, grpc::Status(grpc::StatusCode::UNAVAILABLE, "down")});
  service.SetWatchSteps(down);
  FtdConnection ftd;
  ftd.stub = stub.get();
  ftd.server = "in-process";
  FollowOptions options;
  options.job_id = "job-1";
  options.reconnect_budget = absl::Milliseconds(300);
  options.first_backoff = absl::Milliseconds(20);
  std::ostringstream out;
  std::ostringstream err;
  std::unique_ptr<WatchDisplay> display = MakePlainDisplay(out);
  const absl::Time start = absl::Now();
  absl::StatusOr<ft::v1::JobState> state = FollowJob(ftd, options, *display, err, nullptr);
  EXPECT_EQ(state.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(state.status().message(), "UNAVAILABLE: down");
  EXPECT_LT(absl::Now() - start, absl::Seconds(2));
  EXPECT_GE(service.watch_after_seqs().size(), 3u);
  server->Shutdown();
}

TEST_F(CommandsTest, CancelPrintsTheNewState) {
  service_.AddJob(ft::v1::QUEUED);
  EXPECT_EQ(RunCancel(ftd_, {"job-1", "wrong dataset"}, console_), kExitOk);
  EXPECT_EQ(out_.str(), "job-1 CANCELLED\n");
  EXPECT_EQ(RunCancel(ftd_, {"job-1", ""}, console_), kExitRefused);
  EXPECT_EQ(err_.str(), "ftctl: FAILED_PRECONDITION: already ended\n");
}

TEST_F(CommandsTest, ListFollowsPagesUpToTheLimit) {
  for (int i = 0; i < 5; ++i) service_.AddJob(ft::v1::QUEUED);
  ListArgs args;
  args.limit = 3;
  EXPECT_EQ(RunList(ftd_, args, console_), kExitOk);
  const std::string out = out_.str();
  EXPECT_EQ(out.rfind("ID     STATE", 0), 0u) << out;
  EXPECT_THAT(out, HasSubstr("job-5"));
  EXPECT_THAT(out, HasSubstr("job-3"));
  EXPECT_THAT(out, Not(HasSubstr("job-2")));
  EXPECT_LT(out.find("job-5"), out.find("job-4"));  // newest first

  out_.str("");
  args.limit = 0;
  args.output = OutputFormat::kJson;
  EXPECT_EQ(RunList(ftd_, args, console_), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("\"id\": \"job-1\""));
  EXPECT_EQ(service_.list_page_sizes().back(), 1000u);
}

TEST_F(CommandsTest, GetTableAndJson) {
  service_.AddJob(ft::v1::QUEUED);
  EXPECT_EQ(RunGet(ftd_, {"job-1", OutputFormat::kTable}, console_), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("State        QUEUED, attempt 1\n"));
  out_.str("");
  EXPECT_EQ(RunGet(ftd_, {"job-1", OutputFormat::kJson}, console_), kExitOk);
  EXPECT_THAT(out_.str(), HasSubstr("\"state\": \"QUEUED\""));
  EXPECT_EQ(RunGet(ftd_, {"job-7", OutputFormat::kJson}, console_), kExitNotFound);
}

// --- plot ---

TEST_F(CommandsTest, PlotOfARunningJobDrawsWhatItHasSoFarWithoutWaiting) {
  service_.AddJob(ft::v1::RUNNING);
  std::vector<ft::v1::JobEvent> events = Life(ft::v1::SUCCEEDED);
  events.pop_back();  // still running
  service_.SetEvents(events);
  service_.SetBlockWatch(true);  // the stream would stay open, following the job live
  ft::testing::TempDir dir;
  PlotArgs args;
  args.job_ids = {"job-1"};
  args.out = dir.Path("job-1.svg");
  EXPECT_EQ(RunPlot(ftd_, args, console_), kExitOk) << err_.str();
  EXPECT_EQ(out_.str(), "wrote " + args.out + ": 1 job, 3 points\n");
  std::ifstream in(args.out);
  const std::string svg((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_THAT(svg, HasSubstr("<polyline class=\"series\""));
  EXPECT_THAT(svg, HasSubstr("job-1 (RUNNING)"));
  EXPECT_FALSE(std::filesystem::exists(args.out + ".tmp"));
}

TEST_F(CommandsTest, PlotNamesAnUnknownJob) {
  service_.AddJob(ft::v1::SUCCEEDED);
  service_.SetEvents(Life(ft::v1::SUCCEEDED));
  ft::testing::TempDir dir;
  PlotArgs args;
  args.job_ids = {"job-1", "job-9"};
  args.out = dir.Path("x.svg");
  EXPECT_EQ(RunPlot(ftd_, args, console_), kExitNotFound);
  EXPECT_EQ(err_.str(), "ftctl: plot job-9: NOT_FOUND: no job\n");
  EXPECT_FALSE(std::filesystem::exists(args.out)) << "nothing written";
}

TEST_F(CommandsTest, PlotUsageAndWriteErrors) {
  PlotArgs args;
  args.out = "x.svg";
  EXPECT_EQ(RunPlot(ftd_, args, console_), kExitBadRequest);
  EXPECT_THAT(err_.str(), HasSubstr("name at least one job id or --from-events FILE"));

  service_.AddJob(ft::v1::SUCCEEDED);
  service_.SetEvents(Life(ft::v1::SUCCEEDED));
  args.job_ids = {"job-1"};
  args.out = "/nonexistent-folder/x.svg";
  EXPECT_EQ(RunPlot(ftd_, args, console_), kExitFailure);
  EXPECT_THAT(err_.str(), HasSubstr("cannot write /nonexistent-folder/x.svg"));

  ft::testing::TempDir dir;
  args.job_ids.clear();
  args.event_files = {dir.Write("bad.jsonl", "{]\n")};
  args.out = dir.Path("y.svg");
  EXPECT_EQ(RunPlot(ftd_, args, console_), kExitBadRequest);
  EXPECT_THAT(err_.str(), HasSubstr("bad.jsonl:1: not a job event"));
}

}  // namespace
}  // namespace ft::client
