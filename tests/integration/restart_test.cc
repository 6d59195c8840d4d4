// kill -9 of ftd with jobs queued and one running: after a restart on the same home nothing that
// was acknowledged is missing, and the running job is re-queued as a new attempt and finishes.
#include <signal.h>

#include <fstream>
#include <map>
#include <thread>

#include "gtest/gtest.h"
#include "tests/support/ftd_process.h"

namespace ft::testing {
namespace {

std::map<std::string, std::vector<std::string>> EventLogs(FtdProcess& ftd,
                                                          const std::vector<std::string>& ids) {
  std::map<std::string, std::vector<std::string>> logs;
  for (const std::string& id : ids) {
    const ft::v1::Job job = GetJob(ftd, id);
    // Read what is stored so far without waiting for the end: replay up to the last seq.
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    ft::v1::WatchJobRequest request;
    request.set_job_id(id);
    auto reader = ftd.stub().WatchJob(&context, request);
    ft::v1::JobEvent event;
    while (logs[id].size() < job.last_event_seq() && reader->Read(&event)) {
      logs[id].push_back(event.SerializeAsString());
    }
    context.TryCancel();
    reader->Finish();
  }
  return logs;
}

TEST(RestartTest, KillNineLosesNoJobAndNoEvent) {
  TempDir dir;
  const std::string csv = dir.Path("toy.csv");
  WriteToyCsv(csv, 400, 3);
  const std::string home = dir.Path("home");
  std::vector<std::string> ids;
  std::map<std::string, std::vector<std::string>> before;
  {
    FtdProcess ftd(FtdProcessOptions{home});
    ftd.Start();
    // A finished job, then one running at the kill and three queued behind it.
    ft::v1::SubmitJobResponse finished;
    ASSERT_TRUE(Submit(ftd, TinySpec(csv, 2), "done", &finished).ok());
    WaitFor(ftd, finished.job().id(),
            [](const ft::v1::Job& j) { return j.state() == ft::v1::SUCCEEDED; });
    for (int i = 0; i < 4; ++i) {
      ft::v1::JobSpec spec = TinySpec(csv, i == 0 ? 0 : 3);
      if (i == 0) spec.set_epochs(200);  // still running at the kill
      ft::v1::SubmitJobResponse response;
      ASSERT_TRUE(Submit(ftd, spec, "r" + std::to_string(i), &response).ok());
      ids.push_back(response.job().id());
    }
    WaitFor(ftd, ids[0], [](const ft::v1::Job& j) { return j.progress().step() >= 2; });
    ids.push_back(finished.job().id());
    before = EventLogs(ftd, ids);
    ftd.Kill(SIGKILL);
  }

  FtdProcess ftd(FtdProcessOptions{home});
  ftd.Start();
  // Every acknowledged job and every event seen before the kill is still there, in order.
  const auto after = EventLogs(ftd, ids);
  for (const std::string& id : ids) {
    ASSERT_GE(after.at(id).size(), before.at(id).size()) << id;
    for (size_t i = 0; i < before.at(id).size(); ++i) {
      EXPECT_EQ(after.at(id)[i], before.at(id)[i]) << id << " event " << i + 1;
    }
  }
  // The running job went back to the queue as attempt 2, with an event saying why.
  const ft::v1::Job requeued = GetJob(ftd, ids[0]);
  EXPECT_EQ(requeued.attempt(), 2u);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  ft::v1::WatchJobRequest request;
  request.set_job_id(ids[0]);
  request.set_after_seq(before.at(ids[0]).size());
  auto reader = ftd.stub().WatchJob(&context, request);
  ft::v1::JobEvent event;
  // Reports stored between the snapshot above and the kill come first, then the re-queue.
  do {
    ASSERT_TRUE(reader->Read(&event));
    EXPECT_EQ(event.attempt(), event.has_state_change() ? 2u : 1u);
  } while (!event.has_state_change());
  EXPECT_EQ(event.state_change().from(), ft::v1::RUNNING);
  EXPECT_EQ(event.state_change().to(), ft::v1::QUEUED);
  EXPECT_NE(event.state_change().reason().find("ftd restarted"), std::string::npos);
  context.TryCancel();
  reader->Finish();

  // The queued ones run to the end on the restarted daemon (the long one is cancelled).
  ft::v1::Job job;
  grpc::ClientContext cancel_context;
  ft::v1::CancelJobRequest cancel;
  cancel.set_job_id(ids[0]);
  ASSERT_TRUE(ftd.stub().CancelJob(&cancel_context, cancel, &job).ok());
  EXPECT_EQ(GetJob(ftd, ids.back()).state(), ft::v1::SUCCEEDED);  // the finished one stays so
  for (size_t i = 1; i + 1 < ids.size(); ++i) {
    const ft::v1::Job done =
        WaitFor(ftd, ids[i], [](const ft::v1::Job& j) { return j.state() == ft::v1::SUCCEEDED; });
    EXPECT_EQ(done.state(), ft::v1::SUCCEEDED) << done.error();
  }
}

TEST(RestartTest, SigtermShutsDownPromptlyAndWorkersExit) {
  TempDir dir;
  FtdProcess ftd(FtdProcessOptions{dir.Path("home")});
  ftd.Start();
  const std::vector<pid_t> workers = ftd.ChildPids();
  ASSERT_EQ(workers.size(), 1u);
  // Once the worker is up, SIGTERM reaches it and it exits at once: no SIGKILL after the 5 s
  // grace period is needed (ftd itself needs ~2 s, most of it stopping the metrics server).
  const std::string worker_log = dir.Path("home/workers/local-0.log");
  const auto up_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < up_deadline) {
    std::ifstream in(worker_log);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (text.find("polling") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const auto start = std::chrono::steady_clock::now();
  ftd.Kill(SIGTERM);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(4500));
  // The worker is gone too (reaped by ftd before it exited).
  EXPECT_NE(kill(workers[0], 0), 0);
}

}  // namespace
}  // namespace ft::testing
