#include "server/workers/worker_pool.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "server/workers/child_environment.h"
#include "spdlog/spdlog.h"

namespace ft::workers {

std::string WorkerPool::DescribeExit(int wait_status) {
  if (WIFEXITED(wait_status)) return absl::StrCat("exited with code ", WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) {
    const int sig = WTERMSIG(wait_status);
    return absl::StrCat("was killed by signal ", sig, " (", strsignal(sig), ")");
  }
  return absl::StrCat("ended with wait status ", wait_status);
}

WorkerPool::~WorkerPool() { Stop(); }

absl::Status WorkerPool::Start(sched::JobManager* manager, const std::string& server_address) {
  manager_ = manager;
  server_address_ = server_address;
  if (options_.count > 0 && access(options_.binary.c_str(), X_OK) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("--worker-binary: ", options_.binary, " is not an executable file (",
                     strerror(errno), "); build ftworker or pass --local-workers 0"));
  }
  std::error_code error;
  std::filesystem::create_directories(options_.log_dir, error);
  absl::MutexLock lock(&mu_);
  for (int i = 0; i < options_.count; ++i) {
    Worker worker;
    worker.id = absl::StrCat("local-", i);
    if (!options_.gpus.empty()) {
      if (static_cast<std::size_t>(i) >= options_.gpus.size()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--local-worker-gpus names ", options_.gpus.size(), " GPUs for ", options_.count,
            " local workers"));
      }
      worker.gpu = options_.gpus[static_cast<std::size_t>(i)];
    }
    absl::Status status = SpawnLocked(worker);
    if (!status.ok()) return status;
    workers_.push_back(std::move(worker));
  }
  watcher_ = std::thread([this] { WatchLoop(); });
  return absl::OkStatus();
}

absl::Status WorkerPool::SpawnLocked(Worker& worker) {
  const std::string log_path = absl::StrCat(options_.log_dir, "/", worker.id, ".log");
  std::vector<std::string> args = {options_.binary, "--server", server_address_, "--worker-id",
                                   worker.id};
  // A local worker's gang peers are local too: rank 0's store is reached over loopback.
  args.push_back("--advertise-host");
  args.push_back("127.0.0.1");
  if (options_.threads > 0) {
    args.push_back("--threads");
    args.push_back(absl::StrCat(options_.threads));
  }
  if (!options_.cache_dir.empty()) {
    args.push_back("--cache-dir");
    args.push_back(options_.cache_dir);
  }
  args.insert(args.end(), options_.extra_args.begin(), options_.extra_args.end());
  std::vector<char*> argv;
  for (auto& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);
  // Built before fork: the child of a threaded process may only make async-signal-safe calls.
  std::map<std::string, std::string> overrides = options_.environment;
  if (!worker.gpu.empty()) overrides["CUDA_VISIBLE_DEVICES"] = worker.gpu;
  std::vector<std::string> environment = ChildEnvironment(environ, overrides);
  std::vector<char*> envp;
  for (auto& entry : environment) envp.push_back(entry.data());
  envp.push_back(nullptr);

  const int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (log_fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open worker log ", log_path, ": ", strerror(errno)));
  }
  struct stat st;
  worker.log_offset = fstat(log_fd, &st) == 0 ? st.st_size : 0;
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    close(log_fd);
    return absl::InternalError(absl::StrCat("fork: ", strerror(errno)));
  }
  if (pid == 0) {
    // Child: die with ftd, even if it is killed with SIGKILL.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(1);
    // ftd blocks SIGTERM/SIGINT (it takes them with sigwait) and ignores SIGPIPE; a blocked mask
    // and ignored signals survive exec, so give the worker the defaults back.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    errno = 0;
    if (options_.nice != 0 && nice(options_.nice) == -1 && errno != 0) {
      dprintf(log_fd, "nice(%d): %s\n", options_.nice, strerror(errno));
    }
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    execve(argv[0], argv.data(), envp.data());
    dprintf(STDERR_FILENO, "exec %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  close(log_fd);
  worker.pid = pid;
  worker.started = absl::Now();
  spdlog::info("started worker {} (pid {}{}), log {}", worker.id, pid,
               worker.gpu.empty() ? "" : ", CUDA_VISIBLE_DEVICES=" + worker.gpu, log_path);
  return absl::OkStatus();
}

std::string WorkerPool::LogTail(const Worker& worker) const {
  const std::string log_path = absl::StrCat(options_.log_dir, "/", worker.id, ".log");
  std::ifstream in(log_path, std::ios::binary);
  in.seekg(0, std::ios::end);
  const int64_t size = in.tellg();
  constexpr int64_t kTail = 1500;
  const int64_t from = std::max(worker.log_offset, size - kTail);
  if (size <= from) return "";
  in.seekg(from);
  std::string tail(static_cast<size_t>(size - from), '\0');
  in.read(tail.data(), static_cast<std::streamsize>(tail.size()));
  // Start at a line boundary when the tail was cut.
  if (from > worker.log_offset) {
    const size_t newline = tail.find('\n');
    if (newline != std::string::npos) tail = tail.substr(newline + 1);
  }
  return std::string(absl::StripTrailingAsciiWhitespace(tail));
}

void WorkerPool::WatchLoop() {
  while (!stopping_) {
    std::vector<std::pair<std::string, std::string>> exits;
    {
      absl::MutexLock lock(&mu_);
      const absl::Time now = absl::Now();
      for (Worker& worker : workers_) {
        if (worker.pid == 0) {
          if (!stopping_ && now >= worker.restart_at) SpawnLocked(worker).IgnoreError();
          continue;
        }
        int status = 0;
        if (waitpid(worker.pid, &status, WNOHANG) != worker.pid) continue;
        std::string description = DescribeExit(status);
        const std::string tail = LogTail(worker);
        spdlog::warn("worker {} (pid {}) {}", worker.id, worker.pid, description);
        if (!tail.empty()) absl::StrAppend(&description, "; last output:\n", tail);
        exits.emplace_back(worker.id, description);
        // Back off when it keeps dying quickly; reset after a healthy run.
        worker.backoff = now - worker.started > absl::Seconds(60)
                             ? absl::Seconds(1)
                             : std::min(worker.backoff * 2, absl::Seconds(30));
        worker.restart_at = now + worker.backoff;
        worker.pid = 0;
      }
    }
    for (const auto& [id, description] : exits) manager_->OnWorkerExited(id, description);
    absl::SleepFor(absl::Milliseconds(50));
  }
  // Workers restarted by this thread get PR_SET_PDEATHSIG tied to it: they are SIGKILLed the
  // moment it ends. So this thread stops them (SIGTERM, grace, SIGKILL) before it returns.
  absl::MutexLock lock(&mu_);
  TerminateAllLocked(stop_grace_);
}

bool WorkerPool::KillWorker(const std::string& worker_id) {
  absl::MutexLock lock(&mu_);
  for (const Worker& worker : workers_) {
    if (worker.id == worker_id && worker.pid > 0) return kill(worker.pid, SIGKILL) == 0;
  }
  return false;
}

int WorkerPool::alive() {
  absl::MutexLock lock(&mu_);
  int count = 0;
  for (const Worker& worker : workers_) count += worker.pid > 0 ? 1 : 0;
  return count;
}

void WorkerPool::Stop(absl::Duration grace) {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    stop_grace_ = grace;
    stopping_ = true;
  }
  if (watcher_.joinable()) {
    watcher_.join();  // the watcher terminates the workers before it ends
    return;
  }
  absl::MutexLock lock(&mu_);
  TerminateAllLocked(grace);
}

void WorkerPool::TerminateAllLocked(absl::Duration grace) {
  for (const Worker& worker : workers_) {
    if (worker.pid > 0) kill(worker.pid, SIGTERM);
  }
  const absl::Time deadline = absl::Now() + grace;
  for (Worker& worker : workers_) {
    while (worker.pid > 0) {
      int status = 0;
      if (waitpid(worker.pid, &status, WNOHANG) == worker.pid) {
        worker.pid = 0;
      } else if (absl::Now() > deadline) {
        kill(worker.pid, SIGKILL);
        waitpid(worker.pid, &status, 0);
        worker.pid = 0;
      } else {
        absl::SleepFor(absl::Milliseconds(20));
      }
    }
  }
}

}  // namespace ft::workers
