// Which queued job starts when a worker asks for work, and on which workers: gang scheduling of
// data-parallel jobs (docs/distributed.md, "Gang scheduling"). Pure logic, no clock or store.
//
// Rules, in queue order (oldest first):
// - A job of world size N starts only when N workers are idle at the same moment (the asking
//   worker and those that polled AcquireJob lately without getting work); it takes all N at
//   once. Nothing is ever held for a gang that cannot start yet, so two big jobs can never each
//   hold part of what the other needs.
// - A job that needs more workers than ftd knows at all (connected) is passed over, with a
//   waiting reason, so that it does not block the queue while the workers it needs do not exist.
// - A job that could start once enough workers finish blocks the jobs behind it: they would
//   otherwise keep taking the workers it waits for, and it would never start.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ft::sched {

struct QueuedJobView {
  std::string job_id;
  uint32_t world_size = 1;
};

struct GangPlan {
  std::optional<size_t> start;       // index in the queue of the job to start now
  std::vector<std::string> workers;  // by rank; rank 0 is the asking worker
  // Why jobs ahead of the started one (or the blocking job) wait; by job id.
  std::map<std::string, std::string> waiting;
};

// `idle` are other workers idle now (not the asking one); `connected` counts every worker ftd
// has heard from lately, busy ones included.
GangPlan PlanNextStart(const std::vector<QueuedJobView>& queue, const std::string& asking_worker,
                       const std::vector<std::string>& idle, int connected);

}  // namespace ft::sched
