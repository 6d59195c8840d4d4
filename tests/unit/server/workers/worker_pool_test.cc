// WorkerPool with small shell scripts standing in for ftworker, and a real JobManager hearing
// about their exits. Real processes: every wait polls with a deadline of at most 10 s.
#include "server/workers/worker_pool.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/sched/clock.h"
#include "server/sched/event_hub.h"
#include "server/sched/job_manager.h"
#include "server/store/job_store.h"
#include "tests/unit/server/server_test_util.h"

namespace ft::workers {
namespace {

using ft::testing::ReadFileOrEmpty;
using ft::testing::TempDir;
using ft::testing::WaitFor;

int CountOf(const std::string& text, const std::string& needle) {
  int count = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
    ++count;
  }
  return count;
}

TEST(DescribeExitTest, ExitCodesAndSignals) {
  EXPECT_EQ(WorkerPool::DescribeExit(0), "exited with code 0");
  EXPECT_EQ(WorkerPool::DescribeExit(3 << 8), "exited with code 3");
  EXPECT_EQ(WorkerPool::DescribeExit(255 << 8), "exited with code 255");
  EXPECT_EQ(WorkerPool::DescribeExit(SIGKILL), "was killed by signal 9 (Killed)");
  const std::string segv = WorkerPool::DescribeExit(SIGSEGV | 0x80);  // with a core dump
  EXPECT_TRUE(absl::StartsWith(segv, "was killed by signal 11 (")) << segv;
  EXPECT_TRUE(absl::StrContains(WorkerPool::DescribeExit(SIGTERM), "signal 15")) << "SIGTERM";
}

TEST(DescribeExitTest, RealProcesses) {
  auto run = [](const char* script) {
    const pid_t pid = fork();
    if (pid == 0) {
      execl("/bin/sh", "sh", "-c", script, static_cast<char*>(nullptr));
      _exit(127);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WorkerPool::DescribeExit(status);
  };
  EXPECT_EQ(run("exit 7"), "exited with code 7");
  EXPECT_EQ(run("kill -9 $$"), "was killed by signal 9 (Killed)");
}

class WorkerPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    csv_ = dir_.Write("train.csv", ft::testing::SmallCsv());
    auto store = store::JobStore::Open(dir_.Path("ftd.db"));
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
    sched::JobManagerOptions options;
    options.base_dir = dir_.path().string();
    options.max_attempts = 1;  // a crash fails the job at once (re-queueing: job_manager_test)
    folders_ = ft::testing::JobFoldersIn(dir_.Path("home"));
    auto manager = sched::JobManager::Create(options, store_.get(), folders_.get(), &hub_, &clock_,
                                             nullptr, nullptr);
    ASSERT_TRUE(manager.ok()) << manager.status();
    manager_ = std::move(*manager);
  }

  void TearDown() override {
    if (pool_) pool_->Stop(absl::Milliseconds(500));
  }

  std::string Script(const std::string& name, const std::string& body) {
    const std::string path = dir_.Write(name, "#!/bin/sh\n" + body + "\n");
    chmod(path.c_str(), 0755);
    return path;
  }

  WorkerPoolOptions Options(const std::string& binary, int count = 1) {
    WorkerPoolOptions options;
    options.binary = binary;
    options.count = count;
    options.log_dir = dir_.Path("logs");
    return options;
  }

  std::string Log(const std::string& worker_id = "local-0") {
    return ReadFileOrEmpty(dir_.Path("logs/" + worker_id + ".log"));
  }

  // Submits a job and leases it to `worker_id`, as a local worker would.
  std::string LeaseJobTo(const std::string& worker_id) {
    auto submitted = manager_->Submit(ft::testing::ValidSpec(csv_), "");
    EXPECT_TRUE(submitted.ok()) << submitted.status();
    auto lease = manager_->Acquire(worker_id);
    EXPECT_TRUE(lease.ok() && lease->has_value());
    return submitted.ok() ? submitted->job.id() : "";
  }

  ft::v1::Job Job(const std::string& id) {
    auto job = manager_->Get(id);
    EXPECT_TRUE(job.ok()) << job.status();
    return job.ok() ? *job : ft::v1::Job();
  }

  TempDir dir_;
  std::string csv_;
  std::unique_ptr<store::JobStore> store_;
  std::unique_ptr<store::JobFolders> folders_;
  sched::EventHub hub_;
  sched::RealClock clock_;
  std::unique_ptr<sched::JobManager> manager_;
  std::unique_ptr<WorkerPool> pool_;
};

TEST_F(WorkerPoolTest, MissingBinaryIsFailedPrecondition) {
  pool_ = std::make_unique<WorkerPool>(Options(dir_.Path("no-such-ftworker")));
  const absl::Status status = pool_->Start(manager_.get(), "127.0.0.1:1");
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "no-such-ftworker")) << status;
  EXPECT_EQ(pool_->alive(), 0);
}

TEST_F(WorkerPoolTest, NonExecutableBinaryIsFailedPrecondition) {
  const std::string path = dir_.Write("not-executable", "#!/bin/sh\nexit 0\n");
  chmod(path.c_str(), 0644);
  pool_ = std::make_unique<WorkerPool>(Options(path));
  EXPECT_EQ(pool_->Start(manager_.get(), "127.0.0.1:1").code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(WorkerPoolTest, NoLocalWorkersNeedsNoBinary) {
  pool_ = std::make_unique<WorkerPool>(Options(dir_.Path("no-such-ftworker"), 0));
  FT_EXPECT_OK(pool_->Start(manager_.get(), "127.0.0.1:1"));
  EXPECT_EQ(pool_->alive(), 0);
  EXPECT_FALSE(pool_->KillWorker("local-0"));
}

TEST_F(WorkerPoolTest, CrashingWorkerIsNoticedAndItsOutputLogged) {
  const std::string script = Script("ftworker.sh", "echo \"args: $*\"\necho boom >&2\nexit 3");
  pool_ = std::make_unique<WorkerPool>(Options(script));
  FT_ASSERT_OK(pool_->Start(manager_.get(), "127.0.0.1:4321"));
  EXPECT_TRUE(WaitFor([&] { return pool_->alive() == 0; })) << "the exit was not noticed";
  ASSERT_TRUE(WaitFor([&] { return absl::StrContains(Log(), "boom"); })) << Log();
  const std::string log = Log();
  EXPECT_TRUE(absl::StrContains(log, "args: --server 127.0.0.1:4321 --worker-id local-0")) << log;
}

// --local-worker-gpus: each real worker process sees its own GPU, the others ftd's own value.
TEST_F(WorkerPoolTest, EachWorkerGetsItsOwnGpu) {
  setenv("CUDA_VISIBLE_DEVICES", "ftd-own", 1);
  const std::string script =
      Script("ftworker.sh", "echo \"gpu=[$CUDA_VISIBLE_DEVICES]\"\nexec sleep 30");
  WorkerPoolOptions options = Options(script, 2);
  options.gpus = {"3", "GPU-8f2a"};
  pool_ = std::make_unique<WorkerPool>(options);
  FT_ASSERT_OK(pool_->Start(manager_.get(), "127.0.0.1:1"));
  ASSERT_TRUE(WaitFor([&] {
    return absl::StrContains(Log("local-0"), "gpu=") && absl::StrContains(Log("local-1"), "gpu=");
  }));
  EXPECT_TRUE(absl::StrContains(Log("local-0"), "gpu=[3]")) << Log("local-0");
  EXPECT_TRUE(absl::StrContains(Log("local-1"), "gpu=[GPU-8f2a]")) << Log("local-1");
  pool_->Stop(absl::Milliseconds(500));

  const std::string inherit = Script("inherit.sh", "echo \"gpu=[$CUDA_VISIBLE_DEVICES]\"\nexit 0");
  dir_.Write("logs/local-0.log", "");
  pool_ = std::make_unique<WorkerPool>(Options(inherit));
  FT_ASSERT_OK(pool_->Start(manager_.get(), "127.0.0.1:1"));
  ASSERT_TRUE(WaitFor([&] { return absl::StrContains(Log("local-0"), "gpu="); }));
  EXPECT_TRUE(absl::StrContains(Log("local-0"), "gpu=[ftd-own]")) << Log("local-0");
  unsetenv("CUDA_VISIBLE_DEVICES");
}

TEST_F(WorkerPoolTest, FewerGpusThanWorkersIsRefused) {
  WorkerPoolOptions options = Options(Script("ftworker.sh", "exit 0"), 2);
  options.gpus = {"0"};
  pool_ = std::make_unique<WorkerPool>(options);
  const absl::Status status = pool_->Start(manager_.get(), "127.0.0.1:1");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "--local-worker-gpus")) << status;
}

TEST_F(WorkerPoolTest, CrashFailsTheWorkersJobWithExitAndOutput) {
  const std::string job_id = LeaseJobTo("local-0");
  const std::string script = Script("ftworker.sh", "echo 'Traceback: boom' >&2\nexit 3");
  pool_ = std::make_unique<WorkerPool>(Options(script));
  FT_ASSERT_OK(pool_->Start(manager_.get(), "127.0.0.1:1"));
  ASSERT_TRUE(WaitFor([&] { return Job(job_id).state() == ft::v1::FAILED; }))
      << ft::v1::JobState_Name(Job(job_id).state());
  const std::string error = Job(job_id).error();
  EXPECT_TRUE(absl::StrContains(error, "local-0")) << error;
  EXPECT_TRUE(absl::StrContains(error, "exited with code 3")) << error;
  EXPECT_TRUE(absl::StrContains(error, "Traceback: boom")) << error;
}

TEST_F(WorkerPoolTest, CrashedWorkerIsRestarted) {
  const std::string script = Script("ftworker.sh", "echo started\nexit 1");
  pool_ = std::make_unique<WorkerPool>(Options(script));
  FT_ASSERT_OK(pool_->Start(manager_.get(), "127.0.0.1:1"));
  // First restart after a 2 s back-off.
  EXPECT_TRUE(WaitFor([&] { return CountOf(Log(), "started") >= 2; })) << Log();
}

TEST_F(WorkerPoolTest, OnlyTheNewRunsOutputIsReported) {
  // An old log from a previous ftd run must not show up in this crash's description.
  dir_.Write("logs/local-0.log", "stale output from yesterday\n");
  const std::string job_id = LeaseJobTo("local-0");
  const std::string script = Script("ftworker.sh", "echo fresh >&2\nexit 2");
  pool_ = std::make_unique<WorkerPool>(Options(script));
  FT_ASSERT_OK(pool_->Start(manager_.get(), "127.0.0.1:1"));
  ASSERT_TRUE(WaitFor([&] { return Job(job_id).state() == ft::v1::FAILED; }));
  const std::string error = Job(job_id).error();
  EXPECT_TRUE(absl::StrContains(error, "fresh")) << error;
  EXPECT_FALSE(absl::StrContains(error, "stale")) << error;
}

TEST_F(WorkerPoolTest, KillWorkerKillsALiveWorker) {
  const std::string job_id = LeaseJobTo("local-0");
  const std::string script = Script("ftworker.sh", "echo ready\nexec sleep 30");
  pool_ = std::make_unique<WorkerPool>(Options(script));
  FT_ASSERT_OK(pool_->Start(manager_.get(), "127.0.0.1:1"));
  ASSERT_TRUE(WaitFor([&] { return absl::StrContains(Log(), "ready"); }));
  EXPECT_EQ(pool_->alive(), 1);
  EXPECT_FALSE(pool_->KillWorker("local-7"));
  EXPECT_TRUE(pool_->KillWorker("local-0"));
  ASSERT_TRUE(WaitFor([&] { return Job(job_id).state() == ft::v1::FAILED; }));
  EXPECT_TRUE(absl::StrContains(Job(job_id).error(), "killed by signal 9")) << Job(job_id).error();
}

// Local workers run niced (WorkerPoolOptions::nice, default 10) so that training yields the CPU
// to ftd's own threads; the worker reports the niceness it got.
TEST_F(WorkerPoolTest, WorkersRunNiced) {
  const std::string script = Script("ftworker.sh", "echo nice=$(nice)\nexec sleep 30");
  const int own = getpriority(PRIO_PROCESS, 0);
  pool_ = std::make_unique<WorkerPool>(Options(script));
  FT_ASSERT_OK(pool_->Start(manager_.get(), "127.0.0.1:1"));
  ASSERT_TRUE(WaitFor([&] { return absl::StrContains(Log(), "nice="); }));
  EXPECT_TRUE(absl::StrContains(Log(), absl::StrCat("nice=", std::min(own + 10, 19)))) << Log();
  pool_->Stop(absl::Milliseconds(500));

  WorkerPoolOptions unchanged = Options(script, 1);
  unchanged.nice = 0;
  unchanged.log_dir = dir_.Path("logs-unchanged");
  pool_ = std::make_unique<WorkerPool>(unchanged);
  FT_ASSERT_OK(pool_->Start(manager_.get(), "127.0.0.1:1"));
  const std::string log = dir_.Path("logs-unchanged/local-0.log");
  ASSERT_TRUE(WaitFor([&] { return absl::StrContains(ReadFileOrEmpty(log), "nice="); }));
  EXPECT_TRUE(absl::StrContains(ReadFileOrEmpty(log), absl::StrCat("nice=", own)))
      << ReadFileOrEmpty(log);
}

// The pool's variables reach the worker through its exec environment, over ftd's own ones;
// ftd's own environment stays as it was.
TEST_F(WorkerPoolTest, WorkersGetTheirEnvironmentAndFtdKeepsItsOwn) {
  const char* own_secret = std::getenv("FT_WORKER_TOKEN");
  const std::string before = own_secret == nullptr ? "<unset>" : own_secret;
  const std::string script =
      Script("ftworker.sh", "echo \"secret=$FT_WORKER_TOKEN path=$PATH end\"\nexec sleep 30");
  WorkerPoolOptions options = Options(script);
  options.environment["FT_WORKER_TOKEN"] = "s3cret";
  pool_ = std::make_unique<WorkerPool>(options);
  FT_ASSERT_OK(pool_->Start(manager_.get(), "127.0.0.1:1"));
  ASSERT_TRUE(WaitFor([&] { return absl::StrContains(Log(), " end"); })) << Log();
  EXPECT_TRUE(absl::StrContains(Log(), "secret=s3cret ")) << Log();
  EXPECT_TRUE(absl::StrContains(Log(), absl::StrCat("path=", std::getenv("PATH"), " end")))
      << "the rest of ftd's environment is inherited: " << Log();
  own_secret = std::getenv("FT_WORKER_TOKEN");
  EXPECT_EQ(own_secret == nullptr ? "<unset>" : own_secret, before);
}

TEST_F(WorkerPoolTest, StopTerminatesWorkers) {
  const std::string script = Script("ftworker.sh",
                                    "trap 'echo got-term; exit 0' TERM\n"
                                    "echo ready\n"
                                    "while :; do sleep 0.05; done");
  pool_ = std::make_unique<WorkerPool>(Options(script, 2));
  FT_ASSERT_OK(pool_->Start(manager_.get(), "127.0.0.1:1"));
  ASSERT_TRUE(WaitFor([&] {
    return absl::StrContains(Log("local-0"), "ready") && absl::StrContains(Log("local-1"), "ready");
  }));
  EXPECT_EQ(pool_->alive(), 2);
  const auto start = std::chrono::steady_clock::now();
  pool_->Stop(absl::Seconds(5));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
  EXPECT_EQ(pool_->alive(), 0);
  EXPECT_TRUE(absl::StrContains(Log("local-0"), "got-term")) << Log("local-0");
  EXPECT_TRUE(absl::StrContains(Log("local-1"), "got-term")) << Log("local-1");
  pool_->Stop();  // twice is fine
}

TEST_F(WorkerPoolTest, StopKillsWorkersThatIgnoreTerm) {
  const std::string script = Script("ftworker.sh", "trap '' TERM\necho ready\nexec sleep 30");
  pool_ = std::make_unique<WorkerPool>(Options(script));
  FT_ASSERT_OK(pool_->Start(manager_.get(), "127.0.0.1:1"));
  ASSERT_TRUE(WaitFor([&] { return absl::StrContains(Log(), "ready"); }));
  const auto start = std::chrono::steady_clock::now();
  pool_->Stop(absl::Milliseconds(300));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, std::chrono::milliseconds(250));
  EXPECT_LT(took, std::chrono::seconds(5));
  EXPECT_EQ(pool_->alive(), 0);
}

TEST_F(WorkerPoolTest, RestartedWorkerAlsoGetsAGracefulStop) {
  // The first run crashes; the watcher thread starts the second, which must still receive
  // SIGTERM (and time to stop) from Stop, like the first-generation workers.
  const std::string marker = dir_.Path("crashed-once");
  const std::string script =
      Script("ftworker.sh", "if [ ! -e '" + marker + "' ]; then touch '" + marker +
                                "'; echo crashing; exit 1; fi\n"
                                "trap 'echo got-term; exit 0' TERM\n"
                                "echo second-run\n"
                                "while :; do sleep 0.05; done");
  pool_ = std::make_unique<WorkerPool>(Options(script));
  FT_ASSERT_OK(pool_->Start(manager_.get(), "127.0.0.1:1"));
  ASSERT_TRUE(WaitFor([&] { return absl::StrContains(Log(), "second-run"); })) << Log();
  EXPECT_EQ(pool_->alive(), 1);
  pool_->Stop(absl::Seconds(5));
  EXPECT_EQ(pool_->alive(), 0);
  EXPECT_TRUE(
      WaitFor([&] { return absl::StrContains(Log(), "got-term"); }, std::chrono::milliseconds(500)))
      << "the restarted worker was killed without a graceful stop:\n"
      << Log();
}

}  // namespace
}  // namespace ft::workers
