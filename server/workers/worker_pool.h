// The local ftworker processes: started as ftd's children (they die with it), watched, restarted
// with backoff when they exit, and reported to the job manager with their exit status and the
// tail of their log, so that a crash fails its job with a useful message.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/sched/job_manager.h"
#include "server/sched/job_observer.h"

namespace ft::workers {

struct WorkerPoolOptions {
  std::string binary;   // path to ftworker
  int count = 1;        // 0: no local workers (remote ones may connect)
  std::string log_dir;  // <log_dir>/<worker id>.log gets each worker's stdout and stderr
  int threads = 0;      // --threads for each worker; 0: the worker's default
  std::string cache_dir;  // --cache-dir for each worker (the token cache); "": the worker's default
  // Niceness added to each worker (setpriority): training yields the CPU to ftd's own threads,
  // so API calls stay fast on a machine whose cores the worker keeps busy. 0: ftd's priority.
  int nice = 10;
  std::vector<std::string> extra_args;
  // Set in each worker's environment on top of ftd's own (child_environment.h); ftd's own
  // environment is left as it is.
  std::map<std::string, std::string> environment;
  // Worker i gets CUDA_VISIBLE_DEVICES=gpus[i] on top (local_worker_gpus.h); empty: ftd's own.
  std::vector<std::string> gpus;
};

class WorkerPool : public sched::WorkerKiller {
 public:
  explicit WorkerPool(WorkerPoolOptions options) : options_(std::move(options)) {}
  ~WorkerPool() override;

  // Starts the workers, telling them to reach ftd's WorkerService at `server_address`, and the
  // thread that watches them. `manager` hears about exits.
  absl::Status Start(sched::JobManager* manager, const std::string& server_address);
  // SIGTERM, then SIGKILL after `grace`; waits for every child.
  void Stop(absl::Duration grace = absl::Seconds(5));

  bool KillWorker(const std::string& worker_id) override;
  int alive();

  // "exited with code 3" / "was killed by signal 9 (Killed)".
  static std::string DescribeExit(int wait_status);

 private:
  struct Worker {
    std::string id;
    std::string gpu;  // its CUDA_VISIBLE_DEVICES; empty: ftd's own
    pid_t pid = 0;    // 0: not running
    absl::Time started;
    absl::Time restart_at;
    absl::Duration backoff = absl::Seconds(1);
    int64_t log_offset = 0;  // log size when this run started
  };
  absl::Status SpawnLocked(Worker& worker) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void WatchLoop();
  // SIGTERM to every running worker, SIGKILL to those still running after `grace`; reaps them.
  void TerminateAllLocked(absl::Duration grace) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string LogTail(const Worker& worker) const;

  const WorkerPoolOptions options_;
  sched::JobManager* manager_ = nullptr;
  std::string server_address_;
  absl::Mutex mu_;
  std::vector<Worker> workers_ ABSL_GUARDED_BY(mu_);
  std::atomic<bool> stopping_{false};
  absl::Duration stop_grace_ ABSL_GUARDED_BY(mu_) = absl::Seconds(5);
  std::thread watcher_;
};

}  // namespace ft::workers
