#include "server/sched/gang_plan.h"

#include "absl/strings/str_cat.h"

namespace ft::sched {

GangPlan PlanNextStart(const std::vector<QueuedJobView>& queue, const std::string& asking_worker,
                       const std::vector<std::string>& idle, int connected) {
  GangPlan plan;
  const size_t free_now = idle.size() + 1;
  for (size_t i = 0; i < queue.size(); ++i) {
    const QueuedJobView& job = queue[i];
    const uint32_t needed = job.world_size == 0 ? 1 : job.world_size;
    if (needed <= free_now) {
      plan.start = i;
      plan.workers.push_back(asking_worker);
      for (size_t k = 0; plan.workers.size() < needed && k < idle.size(); ++k) {
        plan.workers.push_back(idle[k]);
      }
      return plan;
    }
    if (needed > static_cast<uint32_t>(connected)) {
      plan.waiting[job.job_id] = absl::StrCat(
          "world_size ", needed, " needs ", needed, " workers at once; ftd has ", connected,
          " connected: start more (ftd --local-workers, or ftworker --server on other hosts)");
      continue;
    }
    plan.waiting[job.job_id] =
        absl::StrCat("waiting for ", needed, " workers to be free at once (", connected,
                     " connected); the jobs queued after it wait too");
    return plan;
  }
  return plan;
}

}  // namespace ft::sched
