// What the job manager tells the rest of ftd (metrics) about jobs. Called after the change is
// stored, never under the manager's locks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ft/v1/event.pb.h"
#include "ft/v1/job.pb.h"

namespace ft::sched {

class JobObserver {
 public:
  virtual ~JobObserver() = default;
  virtual void OnJobSubmitted(const ft::v1::Job& job) {}
  virtual void OnJobStateChanged(const ft::v1::Job& job, ft::v1::JobState from) {}
  virtual void OnJobEvents(const ft::v1::Job& job, const std::vector<ft::v1::JobEvent>& events,
                           const std::vector<double>& step_seconds) {}
  // A data-parallel job's rank reported progress (every rank, rank 0 included).
  virtual void OnRankProgress(const std::string& job_id, uint32_t rank,
                              const ft::v1::TrainingProgress& progress) {}
};

// Stops a worker process that does not honour a cancel in time. Implemented by the local worker
// pool; remote workers are not known to it.
class WorkerKiller {
 public:
  virtual ~WorkerKiller() = default;
  // True when the worker is local and was signalled.
  virtual bool KillWorker(const std::string& worker_id) = 0;
};

}  // namespace ft::sched
