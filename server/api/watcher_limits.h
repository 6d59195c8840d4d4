// Bounds the number of open WatchJob streams, in total and per job. Each stream holds a slot
// for its lifetime; a stream past either bound is refused with RESOURCE_EXHAUSTED naming it.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace ft::api {

class WatcherLimits {
 public:
  // 0: no bound.
  WatcherLimits(int max_total, int max_per_job)
      : max_total_(max_total), max_per_job_(max_per_job) {}

  // Frees its slot when destroyed.
  class Slot {
   public:
    Slot(WatcherLimits* limits, std::string job_id) : limits_(limits), job_id_(std::move(job_id)) {}
    ~Slot() { limits_->Release(job_id_); }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;

   private:
    WatcherLimits* limits_;
    std::string job_id_;
  };

  absl::StatusOr<std::unique_ptr<Slot>> Acquire(const std::string& job_id);
  int total();

 private:
  void Release(const std::string& job_id);

  const int max_total_;
  const int max_per_job_;
  absl::Mutex mu_;
  int total_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::string, int> per_job_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ft::api
