// What the scheduler keeps outside the database for a job: its folder (model, checkpoints,
// result.json, written by the worker) and the event log ftd leaves there once the job has ended.
// An interface so that the scheduler (server/sched/) writes no files itself and its tests can
// look at what it asked for; job_folders.h keeps them on disk under <home>/jobs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "ft/v1/event.pb.h"
#include "ft/v1/job.pb.h"

namespace ft::store {

class JobFiles {
 public:
  virtual ~JobFiles() = default;

  // The folder a new job's outputs go to (stored as the job's output_dir).
  virtual std::string FolderFor(const std::string& job_id) = 0;

  // Leaves the whole event log of an ended job in its folder.
  virtual absl::Status WriteEventLog(const ft::v1::Job& job,
                                     const std::vector<ft::v1::JobEvent>& events) = 0;

  // Removes a deleted job's folder, only if it is one FolderFor gave: a stored path is never
  // followed elsewhere. Returns the bytes it held (0 when nothing was removed).
  virtual uint64_t RemoveFolder(const ft::v1::Job& job) = 0;
};

}  // namespace ft::store
